#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/ids.hpp"
#include "connectors/sinks/lake/lake_sink.hpp"

namespace sluice::connectors {
namespace {
namespace fs = std::filesystem;

class LakeSinkFieldIdsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice-lake-ids-" + RandomHex(8));
    auto db = engine::Database::Open({});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok()) << conn.status();
    conn_ = std::move(*conn);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  /// name -> field id of the top-level columns of a written file.
  std::map<std::string, std::string> FieldIds(const fs::path& file) {
    auto schema = conn_->Query("SELECT name, field_id FROM parquet_schema('" + file.string() +
                               "') WHERE name <> 'duckdb_schema'");
    EXPECT_TRUE(schema.ok()) << schema.status();
    std::map<std::string, std::string> ids;
    for (size_t r = 0; schema.ok() && r < schema->rows.size(); ++r)
      ids[schema->Get(r, "name")] = schema->Get(r, "field_id");
    return ids;
  }

  fs::path dir_;
  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::Connection> conn_;
};

TEST_F(LakeSinkFieldIdsTest, FilesCarryTheGivenIdsExceptPathPartitions) {
  LakeWriteRequest request;
  request.select_sql = "SELECT i AS id, i % 2 AS bucket, 'x' || i AS label FROM range(10) t(i)";
  request.staging_dir = dir_ / "staging";
  request.data_prefix = "raw/t";
  request.partition_by = {"bucket"};
  request.file_prefix = "part-r1";
  request.field_ids = {{"id", 1}, {"bucket", 2}, {"label", 5}, {"gone", 4}};  // a column the rows lack is skipped
  auto staged = WriteParquetToStaging(*conn_, request);
  ASSERT_TRUE(staged.ok()) << staged.status();
  ASSERT_EQ(staged->size(), 2u);
  for (const auto& f : *staged) {
    auto ids = FieldIds(f.local);
    EXPECT_EQ(ids, (std::map<std::string, std::string>{{"id", "1"}, {"label", "5"}})) << f.local;
  }
}

TEST_F(LakeSinkFieldIdsTest, StatisticsCombineRowGroupsAsTypedValues) {
  // 300000 rows make three row groups; as text, "99999" would be the maximum of ids 0..299999.
  LakeWriteRequest request;
  request.select_sql =
      "SELECT i AS id, CASE WHEN i % 10 = 0 THEN NULL ELSE i * 0.5::DOUBLE END AS half, DATE '2024-01-01' + (i % "
      "3)::INTEGER "
      "AS day, (i % 7)::DECIMAL(9,2) - 3 AS d, TIMESTAMP '1970-01-01 00:00:01' AS ts FROM range(300000) t(i)";
  request.staging_dir = dir_ / "staging";
  request.data_prefix = "raw/t";
  request.file_prefix = "part-r1";
  auto staged = WriteParquetToStaging(*conn_, request);
  ASSERT_TRUE(staged.ok()) << staged.status();
  ASSERT_EQ(staged->size(), 1u);
  auto stats = nlohmann::json::parse((*staged)[0].column_stats);
  EXPECT_EQ(stats["id"]["values"], 300000);
  EXPECT_EQ(stats["id"]["nulls"], 0);
  EXPECT_EQ(stats["id"]["min"], "0");
  EXPECT_EQ(stats["id"]["max"], "299999");
  EXPECT_EQ(stats["half"]["nulls"], 30000);
  EXPECT_EQ(stats["half"]["max"], "149999.5");
  EXPECT_EQ(stats["day"]["min"], "19723");  // days since 1970-01-01
  EXPECT_EQ(stats["day"]["max"], "19725");
  EXPECT_EQ(stats["d"]["min"], "-300");  // unscaled: -3.00
  EXPECT_EQ(stats["d"]["max"], "300");
  EXPECT_EQ(stats["ts"]["min"], "1000000");  // microseconds since the epoch
}

}  // namespace
}  // namespace sluice::connectors
