#include "engine/engine.hpp"

#include <gtest/gtest.h>

namespace sluice::engine {
namespace {

std::unique_ptr<Connection> Connect(std::unique_ptr<Database>& db) {
  auto opened = Database::Open({});
  EXPECT_TRUE(opened.ok()) << opened.status();
  db = std::move(opened).value();
  auto conn = db->Connect();
  EXPECT_TRUE(conn.ok());
  return std::move(conn).value();
}

TEST(EngineTest, LibraryIsTheExpectedVersion) { EXPECT_EQ(LibraryVersion(), ExpectedLibraryVersion()); }

TEST(EngineTest, QueryReturnsTextValuesAndNulls) {
  std::unique_ptr<Database> db;
  auto conn = Connect(db);
  auto result = conn->Query("SELECT 42::BIGINT AS n, NULL::VARCHAR AS s, DATE '2024-02-29' AS d");
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->rows.size(), 1u);
  EXPECT_EQ(result->Get(0, "n"), "42");
  EXPECT_FALSE(result->rows[0][1].has_value());
  EXPECT_EQ(result->Get(0, "d"), "2024-02-29");
}

TEST(EngineTest, QueryRendersUuidDecimalAndListValues) {
  std::unique_ptr<Database> db;
  auto conn = Connect(db);
  auto result = conn->Query(
      "SELECT '123e4567-e89b-12d3-a456-426614174000'::UUID AS u, 1.5::DECIMAL(4,2) AS d, [1, NULL, 3] AS l");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->Get(0, "u"), "123e4567-e89b-12d3-a456-426614174000");
  EXPECT_EQ(result->Get(0, "d"), "1.50");
  EXPECT_EQ(result->Get(0, "l"), "[1, NULL, 3]");
}

TEST(EngineTest, QueryRunsStatementsThatAreNotSubqueries) {
  std::unique_ptr<Database> db;
  auto conn = Connect(db);
  ASSERT_TRUE(conn->Execute("CREATE TABLE t AS SELECT 1 AS a").ok());
  auto pragma = conn->Query("PRAGMA table_info('t')");
  ASSERT_TRUE(pragma.ok()) << pragma.status();
  EXPECT_EQ(pragma->Get(0, "name"), "a");
}

TEST(EngineTest, ErrorsCarryCodes) {
  std::unique_ptr<Database> db;
  auto conn = Connect(db);
  auto missing = conn->Query("SELECT * FROM no_such_table");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("no_such_table"), std::string::npos);
  auto cast = conn->Query("SELECT 'abc'::INTEGER");
  ASSERT_FALSE(cast.ok());
  EXPECT_EQ(cast.status().code(), StatusCode::kDataError);
}

TEST(EngineTest, StreamsLargeResultsInBatches) {
  std::unique_ptr<Database> db;
  auto conn = Connect(db);
  auto stream = conn->Stream("SELECT i, 'v' || i AS label, NULL AS nothing FROM range(10000) t(i)");
  ASSERT_TRUE(stream.ok()) << stream.status();
  EXPECT_EQ((*stream)->column_names(), (std::vector<std::string>{"i", "label", "nothing"}));
  std::vector<TextRow> batch;
  size_t total = 0, batches = 0;
  while (true) {
    ASSERT_TRUE((*stream)->Next(&batch).ok());
    if (batch.empty()) break;
    if (total == 0) EXPECT_EQ(*batch[0][1], "v0");
    EXPECT_FALSE(batch[0][2].has_value());
    total += batch.size();
    ++batches;
  }
  EXPECT_EQ(total, 10000u);
  EXPECT_GT(batches, 1u);
}

TEST(EngineTest, DescribeReportsTypes) {
  std::unique_ptr<Database> db;
  auto conn = Connect(db);
  auto cols = conn->Describe("SELECT 1::INTEGER AS a, 1.5::DECIMAL(12,4) AS b");
  ASSERT_TRUE(cols.ok()) << cols.status();
  ASSERT_EQ(cols->size(), 2u);
  EXPECT_EQ((*cols)[0].type, "INTEGER");
  EXPECT_EQ((*cols)[1].type, "DECIMAL(12,4)");
}

TEST(EngineTest, ExtensionsAreNeverAutoInstalled) {
  std::unique_ptr<Database> db;
  auto conn = Connect(db);
  auto result = conn->Query("SELECT current_setting('autoinstall_known_extensions') AS v");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->Get(0, "v"), "false");
}

}  // namespace
}  // namespace sluice::engine
