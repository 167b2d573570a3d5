// The runner against a real project on disk (files source, local lake, SQLite catalog, DuckDB):
// the job graph, depends_on conditions, --job, cancellation and what the run record says.
#include "pipeline/runner.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "unit/project_support.hpp"

namespace sluice::pipeline {
namespace {
using ::testing::HasSubstr;

constexpr const char* kPipeline = R"(name: shop
jobs:
  load:
    source: { type: files, path: data/orders.csv, format: csv }
    target: { zone: raw, table: orders }
  doubled:
    depends_on: [load]
    source: { table: raw.orders }
    steps:
      - sql: "SELECT id, amount * 2 AS amount FROM input"
    target: { zone: silver, table: orders }
  broken:
    source: { type: files, path: data/orders.csv, format: csv }
    steps:
      - sql: "SELECT no_such_column FROM input"
    target: { zone: raw, table: broken }
  after_broken:
    depends_on: [broken]
    source: { table: raw.broken }
    target: { zone: silver, table: broken }
  fallback:
    depends_on: [{ job: broken, condition: failure }]
    source: { type: files, path: data/orders.csv, format: csv }
    target: { zone: raw, table: fallback }
  report:
    depends_on: [{ job: broken, condition: always }, doubled]
    source: { table: silver.orders }
    target: { zone: gold, table: report }
  after_skipped:
    depends_on: [{ job: after_broken, condition: always }]
    source: { table: silver.orders }
    target: { zone: gold, table: after_skipped }
)";

class RunnerTest : public ::testing::Test, protected test_support::WithProject {
 protected:
  void SetUp() override {
    CreateProject("sluice-runner");
    Write("sluice.yaml", "project: runner\nlake: ./lake\n");
    Write("pipelines/shop.yaml", kPipeline);
    Write("data/orders.csv", "id,amount\n1,10.5\n2,20\n3,7.25\n");
    ASSERT_NO_FATAL_FAILURE(OpenProject());
  }
  void TearDown() override { RemoveProject(); }

  Result<RunOutcome> Run(RunRequest request) {
    PipelineRunner runner(*ws_, pipelines_);
    return runner.Run(request, nullptr);
  }

  static std::map<std::string, JobSummary> ByJob(const RunOutcome& outcome) {
    std::map<std::string, JobSummary> jobs;
    for (const auto& job : outcome.jobs) jobs[job.job] = job;
    return jobs;
  }

  std::string Scalar(const std::string& sql) {
    auto connection = ws_->engine().Connect();
    EXPECT_TRUE(connection.ok()) << connection.status();
    auto table = (*connection)->Query(sql);
    EXPECT_TRUE(table.ok()) << table.status();
    return table.ok() && !table->rows.empty() ? table->rows[0][0].value_or("NULL") : "";
  }

  /// Rows of the table's current version; -1 when the catalog has no such table.
  int64_t Rows(const std::string& table) {
    auto files = ws_->catalog().ListFiles(*catalog::TableName::Parse(table));
    if (!files.ok()) return files.status().code() == StatusCode::kNotFound ? -1 : -2;
    int64_t rows = 0;
    for (const auto& f : *files) rows += f.rows;
    return rows;
  }
};

TEST_F(RunnerTest, JobsRunAsTheirConditionsSayAndTheRecordSumsThemUp) {
  RunRequest request;
  request.pipeline = "shop";
  auto outcome = Run(request);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  auto jobs = ByJob(*outcome);
  ASSERT_EQ(jobs.size(), 7u);
  EXPECT_EQ(jobs["load"].status, JobStatus::kSucceeded);
  EXPECT_EQ(jobs["load"].rows_written, 3);
  EXPECT_EQ(jobs["doubled"].status, JobStatus::kSucceeded) << jobs["doubled"].message;
  EXPECT_EQ(jobs["broken"].status, JobStatus::kFailed);
  EXPECT_THAT(jobs["broken"].message, HasSubstr("no_such_column"));
  // success (the default) of a failed upstream: skipped; failure: runs; always: runs whatever the
  // upstream's end, except a skip (docs/workflows.md).
  EXPECT_EQ(jobs["after_broken"].status, JobStatus::kSkipped);
  EXPECT_EQ(jobs["fallback"].status, JobStatus::kSucceeded) << jobs["fallback"].message;
  EXPECT_EQ(jobs["report"].status, JobStatus::kSucceeded) << jobs["report"].message;
  EXPECT_EQ(jobs["after_skipped"].status, JobStatus::kSkipped);

  EXPECT_EQ(Rows("raw.orders"), 3);
  EXPECT_EQ(Rows("silver.orders"), 3);
  EXPECT_EQ(Rows("gold.report"), 3);
  EXPECT_EQ(Rows("raw.fallback"), 3);
  EXPECT_EQ(Rows("raw.broken"), -1) << "a failed job publishes nothing";
  EXPECT_EQ(
      Scalar("SELECT sum(amount) FROM read_parquet('" + (dir_ / "lake").string() + "/silver/orders/**/*.parquet')"),
      "75.5");

  const auto& record = outcome->record;
  EXPECT_EQ(record.status, catalog::RunStatus::kFailed) << "one job failed";
  EXPECT_EQ(record.pipeline, "shop");
  EXPECT_FALSE(record.id.value.empty());
  auto stored = ws_->catalog().GetRun(record.id.value);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->status, catalog::RunStatus::kFailed);
  EXPECT_TRUE((*stored)->finished_at.has_value());
}

TEST_F(RunnerTest, OnlyJobRunsThatJobAndNothingElse) {
  RunRequest request;
  request.pipeline = "shop";
  request.only_job = "load";
  auto outcome = Run(request);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  ASSERT_EQ(outcome->jobs.size(), 1u);
  EXPECT_EQ(outcome->jobs[0].job, "load");
  EXPECT_EQ(outcome->record.status, catalog::RunStatus::kSucceeded);
  EXPECT_EQ(Rows("silver.orders"), -1);

  // The same file again: its job has nothing new to load.
  auto again = Run(request);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->jobs[0].status, JobStatus::kNoChanges);
  EXPECT_EQ(Rows("raw.orders"), 3);
}

TEST_F(RunnerTest, AJobThePipelineDoesNotHaveIsRefusedWithItsJobs) {
  RunRequest request;
  request.pipeline = "shop";
  request.only_job = "lod";
  auto outcome = Run(request);
  ASSERT_FALSE(outcome.ok());
  EXPECT_THAT(outcome.status().message(), HasSubstr("did you mean 'load'"));
  request.pipeline = "nope";
  request.only_job.reset();
  EXPECT_FALSE(Run(request).ok());
}

TEST_F(RunnerTest, ARunCancelledBeforeItStartsRunsNoJob) {
  RunRequest request;
  request.pipeline = "shop";
  request.cancellation = std::make_shared<RunCancellation>();
  request.cancellation->Cancel("stopped by the test");
  auto outcome = Run(request);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->record.status, catalog::RunStatus::kCancelled);
  for (const auto& job : outcome->jobs) EXPECT_NE(job.status, JobStatus::kSucceeded) << job.job;
  EXPECT_EQ(Rows("raw.orders"), -1);
}

TEST_F(RunnerTest, AGivenRunIdIsTheRecordsId) {
  RunRequest request;
  request.pipeline = "shop";
  request.only_job = "load";
  request.run_id = RunId{"20261207T010000Z-queued"};
  auto outcome = Run(request);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->record.id, *request.run_id);
  auto stored = ws_->catalog().GetRun("20261207T010000Z-queued");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->status, catalog::RunStatus::kSucceeded);
}

}  // namespace
}  // namespace sluice::pipeline
