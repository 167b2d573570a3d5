#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/engine.hpp"
#include "streams/flush_input.hpp"
#include "streams/record_batch.hpp"
#include "streams/record_shape.hpp"
#include "streams/spool.hpp"
#include "unit/engine_support.hpp"

namespace sluice::streams {
namespace {

namespace fs = std::filesystem;

TEST(RecordShapeTest, KeysNoTableCouldHoldAreRefused) {
  EXPECT_EQ(CheckFieldNames(R"({"a": 1, "b": {"c": [1, {"d": 2}]}})"), "");
  EXPECT_NE(CheckFieldNames(R"({"a": 1, "a": 2})").find("'a' appears twice"), std::string::npos);
  EXPECT_NE(CheckFieldNames(R"({"b": {"x": 1, "x": 2}})").find("'b.x' appears twice"), std::string::npos);
  EXPECT_NE(CheckFieldNames(R"({"": 1})").find("empty name"), std::string::npos);
  EXPECT_NE(CheckFieldNames(R"({"userId": 1, "userid": 2})").find("differ only in case"), std::string::npos);
  // The same path in two elements of a list shares one struct field.
  EXPECT_NE(CheckFieldNames(R"({"l": [{"Id": 1}, {"id": 2}]})").find("spelled 'id'"), std::string::npos);
  // Keys of different objects may repeat.
  EXPECT_EQ(CheckFieldNames(R"({"a": {"id": 1}, "b": {"id": 2}, "c": [{"id": 3}, {"id": 4}]})"), "");
  EXPECT_EQ(CheckFieldNames("{\"a\": 1} x"), "the record is not valid JSON");
  // A wide object (past the quick scan's list of keys) is checked all the same.
  std::string wide = "{";
  for (int i = 0; i < 300; ++i) wide += fmt::format("\"k{}\": {}, ", i, i);
  EXPECT_EQ(CheckFieldNames(wide + "\"last\": 0}"), "");
  EXPECT_NE(CheckFieldNames(wide + "\"K7\": 0}").find("fields 'k7' and 'K7' of one object differ only in case"),
            std::string::npos);
}

TEST(RecordShapeTest, SpellingsFollowTheTableThenTheFirstRecord) {
  FieldSpellings spellings;
  spellings.AddColumn("userId", "BIGINT");
  spellings.AddColumn("person", "STRUCT(\"Name\" VARCHAR, tags STRUCT(k VARCHAR)[])");
  EXPECT_EQ(CheckFieldNames(R"({"userId": 1, "person": {"Name": "a", "tags": [{"k": "x"}]}})", &spellings), "");
  std::string why = CheckFieldNames(R"({"userid": 2})", &spellings);
  EXPECT_NE(why.find("spelled 'userid' where the table or an earlier record of the stream has 'userId'"),
            std::string::npos)
      << why;
  EXPECT_NE(CheckFieldNames(R"({"person": {"name": "b"}})", &spellings).find("'person.name'"), std::string::npos);
  EXPECT_NE(CheckFieldNames(R"({"person": {"tags": [{"K": "y"}]}})", &spellings).find("'person.tags[].K'"),
            std::string::npos);
  // A new field's first spelling wins; a refused record registers nothing.
  EXPECT_NE(CheckFieldNames(R"({"Page": "/a", "userid": 3})", &spellings), "");
  EXPECT_EQ(CheckFieldNames(R"({"page": "/a"})", &spellings), "");
  EXPECT_NE(CheckFieldNames(R"({"Page": "/b"})", &spellings), "");
}

TEST(RecordShapeTest, TheApiRefusesSuchRecordsByIndex) {
  auto parsed = ParseRecordBody("{\"a\":1}\n{\"a\":1,\"a\":2}\n{\"Ab\":1,\"aB\":2}\n", BodyFormat::kNdjson,
                                BatchLimits{1024, 10});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->batch.records.size(), 1u);
  ASSERT_EQ(parsed->batch.failed.size(), 2u);
  EXPECT_EQ(parsed->batch.failed[0].first, 1u);
  EXPECT_EQ(parsed->batch.failed[1].first, 2u);
  auto array = ParseRecordBody(R"([{"": 1}, {"b": 2}])", BodyFormat::kJson, BatchLimits{1024, 10});
  ASSERT_TRUE(array.ok());
  EXPECT_EQ(array->batch.records.size(), 1u);
  EXPECT_NE(array->batch.failed.at(0).second.find("empty name"), std::string::npos);
}

class FlushInputTest : public ::testing::Test, protected test_support::WithEngine {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice-flush-input-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ASSERT_NO_FATAL_FAILURE(OpenEngine());
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// A segment of `records` as the spool writes it, bypassing the checks on arrival (an older sluice's spool).
  fs::path Segment(const std::vector<std::string>& records) {
    std::string bytes = "SLSPOOL1";  // the segment's magic (spool.cpp)
    for (const auto& r : records) AppendFrame(&bytes, FrameKind::kRecord, FromUnixMicros(1764979200000000), r);
    fs::path file = dir_ / "00000000000000000001.seg";
    std::ofstream(file, std::ios::binary) << bytes;
    return file;
  }

  std::vector<std::string> Column(const std::string& sql) {
    auto result = conn_->Query(sql);
    EXPECT_TRUE(result.ok()) << result.status();
    std::vector<std::string> out;
    if (!result.ok()) return out;
    for (size_t i = 0; i < result->rows.size(); ++i) out.push_back(result->Get(i, "v"));
    return out;
  }

  fs::path dir_;
};

TEST_F(FlushInputTest, RecordsNoTableCanHoldAreSetAsideWithTheReason) {
  FieldSpellings spellings;
  auto input =
      WriteFlushInput(Segment({R"({"id":1})", R"({"id":2,"id":3})", R"({"Id":4})", R"({"id":5})"}), dir_, &spellings);
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(input->records, 4);
  EXPECT_EQ(input->set_aside, 2);
  ASSERT_TRUE(ReadFlushInput(*conn_, &*input, "lines").ok());
  EXPECT_EQ(Column("SELECT CAST(r.id AS VARCHAR) AS v FROM lines ORDER BY 1"), (std::vector<std::string>{"1", "5"}));
  auto reasons = Column(fmt::format("SELECT _record || ' ' || _reject_reason AS v FROM ({}) ORDER BY 1",
                                    UnreadableSelect(*input, "s/1.seg")));
  ASSERT_EQ(reasons.size(), 2u);
  EXPECT_NE(reasons[0].find(R"({"Id":4} field 'Id' is spelled 'Id')"), std::string::npos) << reasons[0];
  EXPECT_NE(reasons[1].find(R"({"id":2,"id":3} field 'id' appears twice)"), std::string::npos) << reasons[1];
}

TEST_F(FlushInputTest, WhatDuckDbCannotReadIsFoundByBisection) {
  // Without the name checks, these records reach DuckDB's reader, which refuses the whole file.
  std::vector<std::string> records;
  for (int i = 0; i < 40; ++i) records.push_back(fmt::format(R"({{"id":{}}})", i));
  records[7] = R"({"id":7,"id":70})";
  records[30] = R"({"ID":30})";
  auto input = WriteFlushInput(Segment(records), dir_, nullptr);
  ASSERT_TRUE(input.ok()) << input.status();
  // Undo the name checks' work, as if an older sluice had written the lines.
  std::ofstream lines(input->lines_file, std::ios::binary | std::ios::trunc);
  input->line_offsets.clear();
  uint64_t offset = 0;
  for (const auto& r : records) {
    input->line_offsets.push_back(offset);
    std::string line = "{\"t\":1764979200000000,\"r\":" + r + "}\n";
    lines << line;
    offset += line.size();
  }
  input->line_offsets.push_back(offset);
  lines.close();
  input->set_aside = 0;
  std::ofstream(input->unreadable_file, std::ios::trunc).close();

  ASSERT_TRUE(ReadFlushInput(*conn_, &*input, "lines").ok());
  EXPECT_EQ(input->set_aside, 2);
  EXPECT_EQ(Column("SELECT CAST(count(*) AS VARCHAR) AS v FROM lines"), (std::vector<std::string>{"38"}));
  auto reasons = Column(fmt::format("SELECT _record || ' ' || _reject_reason AS v FROM ({}) ORDER BY 1",
                                    UnreadableSelect(*input, "s/1.seg")));
  ASSERT_EQ(reasons.size(), 2u);
  EXPECT_NE(reasons[0].find(R"({"ID":30} DuckDB cannot take the record)"), std::string::npos) << reasons[0];
  EXPECT_NE(reasons[1].find(R"({"id":7,"id":70} DuckDB cannot take the record)"), std::string::npos) << reasons[1];
  EXPECT_EQ(reasons[1].find(input->lines_file.parent_path().string()), std::string::npos) << reasons[1];
}

}  // namespace
}  // namespace sluice::streams
