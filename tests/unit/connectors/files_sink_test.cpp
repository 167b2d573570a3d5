// The files sink against a real DuckDB connection and a real local folder.

#include "connectors/sinks/files/files_sink.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/clock.hpp"
#include "config/value.hpp"

namespace sluice::connectors {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class FilesSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sluice-files-sink-XXXXXX";
    root_ = ::mkdtemp(pattern);
    project_.root = root_;
    auto db = engine::Database::Open({});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok()) << conn.status();
    conn_ = std::move(*conn);
    ASSERT_TRUE(conn_
                    ->Execute("CREATE TABLE first_part AS SELECT i AS id, 'row ' || i AS label, i * 1.5 AS amount "
                              "FROM range(3) t(i)")
                    .ok());
    ASSERT_TRUE(conn_
                    ->Execute("CREATE TABLE second_part AS SELECT i AS id, 'line\nbreak, \"quoted\"' AS label, "
                              "NULL::DOUBLE AS amount FROM range(3, 5) t(i)")
                    .ok());
  }
  void TearDown() override { fs::remove_all(root_); }

  Result<std::unique_ptr<Sink>> Bind(const std::string& yaml) {
    auto options = config::ParseYaml(yaml, "pipelines/p.yaml", {});
    if (!options.ok()) return options.status();
    SinkBindContext context{project_, "p", "export", "", {}, false};
    return BindSink(FilesSinkDescriptor(), context, *options);
  }

  /// Binds, writes both parts and commits; the writer's outputs.
  std::vector<std::string> Export(const std::string& yaml, const std::string& run_id = "r1", int64_t first_rows = 3) {
    auto sink = Bind(yaml);
    EXPECT_TRUE(sink.ok()) << sink.status();
    if (!sink.ok()) return {};
    auto writer = (*sink)->Open(SinkRunContext{clock_, root_ / ".sluice" / "staging" / run_id, run_id});
    EXPECT_TRUE(writer.ok()) << writer.status();
    if (!writer.ok()) return {};
    auto rows = (*writer)->Write(*conn_, "first_part");
    EXPECT_TRUE(rows.ok()) << rows.status();
    EXPECT_EQ(rows.ValueOr(0), first_rows);
    EXPECT_EQ((*writer)->Write(*conn_, "second_part").ValueOr(0), 2);
    Status committed = (*writer)->Commit(LoadRecord{});
    EXPECT_TRUE(committed.ok()) << committed;
    return (*writer)->Outputs();
  }

  /// The export read back by DuckDB, as "id|label|amount" lines in id order.
  std::string ReadBack(const std::string& reader) {
    auto result = conn_->Query(
        "SELECT id::VARCHAR || '|' || label || '|' || coalesce(amount::VARCHAR, 'NULL') AS l "
        "FROM " +
        reader + " ORDER BY id");
    EXPECT_TRUE(result.ok()) << result.status();
    std::string lines;
    if (!result.ok()) return lines;
    for (size_t i = 0; i < result->rows.size(); ++i) lines += result->Get(i, "l") + "\n";
    return lines;
  }

  fs::path root_;
  config::ProjectConfig project_;
  ManualClock clock_{*ParseTimestampUtc("2026-12-05T07:30:00Z")};
  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::Connection> conn_;
};

const char* kExpectedRows =
    "0|row 0|0.0\n1|row 1|1.5\n2|row 2|3.0\n3|line\nbreak, \"quoted\"|NULL\n4|line\nbreak, \"quoted\"|NULL\n";

TEST_F(FilesSinkTest, CsvHasAHeaderAndEveryPartInOneFile) {
  auto outputs = Export("path: exports/daily.csv\n");
  EXPECT_EQ(outputs, (std::vector<std::string>{"exports/daily.csv"}));
  std::string csv = ReadFile(root_ / "exports/daily.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "id,label,amount");
  EXPECT_EQ(ReadBack("read_csv('" + (root_ / "exports/daily.csv").string() + "', header = true)"), kExpectedRows);
  // Nothing else is left in the folder (no temporary names), and the run's scratch is gone with the writer.
  EXPECT_EQ(std::distance(fs::directory_iterator(root_ / "exports"), fs::directory_iterator()), 1);
  EXPECT_FALSE(fs::exists(root_ / ".sluice/staging/r1/files_export"));
}

TEST_F(FilesSinkTest, JsonIsOneObjectPerLineAndParquetReadsBack) {
  Export("path: exports/daily.json\n");
  std::string json = ReadFile(root_ / "exports/daily.json");
  EXPECT_EQ(json.substr(0, json.find('\n')), R"({"id":0,"label":"row 0","amount":0.0})");
  EXPECT_EQ(ReadBack("read_json('" + (root_ / "exports/daily.json").string() + "')"), kExpectedRows);
  Export("path: s/out.data\nformat: parquet\n");
  EXPECT_EQ(ReadFile(root_ / "s/out.data").substr(0, 4), "PAR1");
  EXPECT_EQ(ReadBack("read_parquet('" + (root_ / "s/out.data").string() + "')"), kExpectedRows);
}

TEST_F(FilesSinkTest, PlaceholdersTakeTheRunDateAndId) {
  auto outputs = Export("path: exports/{date}/revenue-{run_id}.csv\n", "run-42");
  EXPECT_EQ(outputs, (std::vector<std::string>{"exports/2026-12-05/revenue-run-42.csv"}));
  EXPECT_TRUE(fs::exists(root_ / "exports/2026-12-05/revenue-run-42.csv"));
}

TEST_F(FilesSinkTest, LargeExportsSplitWithAManifestAndLeftoversGo) {
  ASSERT_TRUE(conn_->Execute("DROP TABLE first_part").ok());
  ASSERT_TRUE(conn_
                  ->Execute("CREATE TABLE first_part AS SELECT i AS id, md5(i::VARCHAR) AS label, i * 1.0 AS amount "
                            "FROM range(60000) t(i)")
                  .ok());
  auto outputs = Export("path: out/big.csv\nmax_file_size: 500KB\n", "r1", 60000);
  ASSERT_GT(outputs.size(), 2u);
  EXPECT_TRUE(fs::exists(root_ / "out/big-0001.csv"));
  EXPECT_FALSE(fs::exists(root_ / "out/big.csv"));
  auto manifest = nlohmann::json::parse(ReadFile(root_ / "out/big.manifest.json"));
  EXPECT_EQ(manifest["rows"], 60002);
  EXPECT_EQ(manifest["run_id"], "r1");
  ASSERT_EQ(manifest["files"].size(), outputs.size());
  EXPECT_EQ(manifest["files"][0]["name"], "big-0001.csv");
  auto total = conn_->Query("SELECT count(*) AS n, count(DISTINCT id) AS d FROM read_csv('" +
                            (root_ / "out/big-*.csv").string() + "', header = true)");
  ASSERT_TRUE(total.ok()) << total.status();
  EXPECT_EQ(total->GetInt(0, "n"), 60002);
  EXPECT_EQ(total->GetInt(0, "d"), 60000);  // the second part repeats ids 3 and 4

  // The next export fits one file: the numbered files and the manifest of the earlier one go.
  ASSERT_TRUE(conn_->Execute("DELETE FROM first_part WHERE id > 2").ok());
  Export("path: out/big.csv\nmax_file_size: 500KB\n");
  auto small = conn_->Query("SELECT count(*) AS n FROM read_csv('" + (root_ / "out/big.csv").string() + "')");
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ(small->GetInt(0, "n"), 5);
  EXPECT_EQ(std::distance(fs::directory_iterator(root_ / "out"), fs::directory_iterator()), 1);
}

TEST_F(FilesSinkTest, AnUncommittedExportLeavesThePreviousFileAsItWas) {
  Export("path: exports/daily.csv\n");
  std::string before = ReadFile(root_ / "exports/daily.csv");
  {
    auto sink = Bind("path: exports/daily.csv\n");
    ASSERT_TRUE(sink.ok());
    auto writer = (*sink)->Open(SinkRunContext{clock_, root_ / ".sluice/staging/r2", "r2"});
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write(*conn_, "second_part").ok());
    // A failing part: the job fails and never commits.
    EXPECT_FALSE((*writer)->Write(*conn_, "no_such_relation").ok());
  }
  EXPECT_EQ(ReadFile(root_ / "exports/daily.csv"), before);
  EXPECT_EQ(std::distance(fs::directory_iterator(root_ / "exports"), fs::directory_iterator()), 1);
}

TEST_F(FilesSinkTest, BindRejectsUnknownPlaceholdersFormatsAndKeys) {
  auto placeholder = Bind("path: exports/{day}.csv\n");
  ASSERT_FALSE(placeholder.ok());
  EXPECT_THAT(placeholder.status().message(),
              HasSubstr("pipelines/p.yaml:1:7: path 'exports/{day}.csv' has the placeholder '{day}'; only {date} and "
                        "{run_id} are replaced"));
  auto format = Bind("path: exports/x.csv\nformat: xlsx\n");
  ASSERT_FALSE(format.ok());
  EXPECT_THAT(format.status().message(), HasSubstr("format 'xlsx' of target of job 'export'"));
  auto extension = Bind("path: exports/x.txt\n");
  ASSERT_FALSE(extension.ok());
  EXPECT_THAT(extension.status().message(), HasSubstr("add format: csv | json | parquet"));
  auto key = Bind("path: exports/x.csv\nheadr: false\n");
  ASSERT_FALSE(key.ok());
  EXPECT_THAT(key.status().message(), HasSubstr("did you mean 'header'?"));
  auto bound = Bind("path: s3://bucket/exports/{date}.parquet\n");
  ASSERT_TRUE(bound.ok()) << bound.status();
  EXPECT_EQ((*bound)->plan().description, "export as parquet to s3://bucket/exports/{date}.parquet");
}

}  // namespace
}  // namespace sluice::connectors
