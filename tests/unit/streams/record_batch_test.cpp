#include <gtest/gtest.h>

#include "streams/record_batch.hpp"

namespace sluice::streams {
namespace {

BatchLimits Limits() { return BatchLimits{64, 3}; }

TEST(RecordBatchTest, OneObjectAnArrayAndNdjson) {
  auto one = ParseRecordBody(R"({"a": 1})", BodyFormat::kJson, Limits());
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->batch.records, (std::vector<std::string>{R"({"a": 1})"}));

  auto array = ParseRecordBody(R"([{"a":1}, {"b":2}])", BodyFormat::kJson, Limits());
  ASSERT_TRUE(array.ok());
  EXPECT_EQ(array->batch.records, (std::vector<std::string>{R"({"a":1})", R"({"b":2})"}));

  auto lines = ParseRecordBody("{\"a\":1}\n\n{\"b\":2}\r\n", BodyFormat::kNdjson, Limits());
  ASSERT_TRUE(lines.ok());
  EXPECT_EQ(lines->batch.records, (std::vector<std::string>{R"({"a":1})", R"({"b":2})"}));
  EXPECT_EQ(lines->batch.total, 2u);

  // A pretty-printed object becomes one line.
  auto pretty = ParseRecordBody("{\n  \"a\": 1\n}\n", BodyFormat::kJson, Limits());
  ASSERT_TRUE(pretty.ok());
  EXPECT_EQ(pretty->batch.records, (std::vector<std::string>{R"({"a":1})"}));
}

TEST(RecordBatchTest, ABadRecordFailsAloneByIndex) {
  auto parsed = ParseRecordBody("{\"a\":1}\nnot json\n[1]\n", BodyFormat::kNdjson, Limits());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->batch.records.size(), 1u);
  ASSERT_EQ(parsed->batch.failed.size(), 2u);
  EXPECT_EQ(parsed->batch.failed[0].first, 1u);
  EXPECT_EQ(parsed->batch.failed[1].first, 2u);
  EXPECT_NE(parsed->batch.failed[1].second.find("not a JSON object"), std::string::npos);

  auto array =
      ParseRecordBody(R"([1, {"a":1}, {"big":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}])",
                      BodyFormat::kJson, Limits());
  ASSERT_TRUE(array.ok());
  ASSERT_EQ(array->batch.failed.size(), 2u);
  EXPECT_EQ(array->batch.failed[0].first, 0u);
  EXPECT_EQ(array->batch.failed[1].first, 2u);
  EXPECT_NE(array->batch.failed[1].second.find("max_record_size"), std::string::npos);
  EXPECT_EQ(BatchAnswerJson(array->batch).substr(0, 14), R"({"accepted":1,)");
}

TEST(RecordBatchTest, DeepRecordsFailAndTooManyRecordsAreReported) {
  std::string deep = "{\"a\":" + std::string(600, '[') + std::string(600, ']') + "}";
  BatchLimits roomy{1 << 20, 10};
  auto parsed = ParseRecordBody(deep + "\n{\"ok\":1}", BodyFormat::kNdjson, roomy);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->batch.failed.size(), 1u);
  EXPECT_NE(parsed->batch.failed[0].second.find("deeper"), std::string::npos);
  EXPECT_EQ(parsed->batch.records.size(), 1u);

  auto many = ParseRecordBody("{}\n{}\n{}\n{}\n", BodyFormat::kNdjson, Limits());
  ASSERT_TRUE(many.ok());
  EXPECT_TRUE(many->too_many);
  auto many_array = ParseRecordBody("[{},{},{},{}]", BodyFormat::kJson, Limits());
  ASSERT_TRUE(many_array.ok());
  EXPECT_TRUE(many_array->too_many);
}

TEST(RecordBatchTest, UnreadableBodiesAreRefusedWhole) {
  EXPECT_FALSE(ParseRecordBody("   ", BodyFormat::kJson, Limits()).ok());
  EXPECT_FALSE(ParseRecordBody("[{\"a\":1}", BodyFormat::kJson, Limits()).ok());
}

}  // namespace
}  // namespace sluice::streams
