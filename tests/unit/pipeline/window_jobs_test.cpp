#include "pipeline/window_jobs.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/ids.hpp"

namespace sluice::pipeline {
namespace {

TEST(CompareWindowBoundsTest, OrdersNumbersDatesAndTimestamps) {
  EXPECT_EQ(CompareWindowBounds("9", "10"), -1);
  EXPECT_EQ(CompareWindowBounds("-5", "-5"), 0);
  EXPECT_EQ(CompareWindowBounds("2018-11-05", "2018-11-04 23:59:59"), 1);
  EXPECT_EQ(CompareWindowBounds("2018-11-04 00:00:00", "2018-11-05 00:00:00"), -1);
  EXPECT_EQ(CompareWindowBounds("2018-11-04T10:00:00.5", "2018-11-04 10:00:00.25"), 1);
  EXPECT_EQ(CompareWindowBounds("2018-11-04 10:00:00+00", "2018-11-04 10:00:00+00"), 0);
  EXPECT_FALSE(CompareWindowBounds("10", "2018-11-04").has_value());
  EXPECT_FALSE(CompareWindowBounds("yesterday", "today").has_value());
  EXPECT_FALSE(CompareWindowBounds("2018-13-04", "2018-11-04").has_value());
  EXPECT_FALSE(CompareWindowBounds("2018-11-04 banana", "2018-11-05").has_value());
}

config::Value Yaml(std::string_view text) {
  auto parsed = config::ParseYaml(text, "pipelines/deposits.yaml", config::ParseOptions{});
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return *parsed;
}

/// A job added with `sluice jobs add`.
catalog::WindowJob LoansJob() {
  catalog::WindowJob added;
  added.pipeline = "deposits";
  added.job = "loans";
  added.source_table = "public.loans";
  added.target_table = "loans";
  added.column = "granted";
  added.first_start = "1";
  added.first_stop = "1000";
  added.step = "1000";
  return added;
}

class WithCatalogWindowJobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sluice-window-jobs-" + RandomHex(8));
    std::filesystem::create_directories(dir_);
    auto store = catalog::OpenMetadataStore((dir_ / "catalog.db").string(), std::make_shared<SystemClock>());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    pipeline_.name = "deposits";
    config::JobConfig job;
    job.name = "deposits";
    job.mode = config::LoadMode::kWindow;
    job.source = Yaml("connection: bank\ntable: public.deposits\n");
    job.window = Yaml("column: booked\nstart: '2018-11-04'\nstop: '2018-11-05'\nstep: 1 day\n");
    job.mask = Yaml("account: hash\n");
    job.target.zone = "raw";
    job.target.table = "deposits";
    pipeline_.jobs.push_back(job);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<catalog::MetadataStore> store_;
  config::PipelineConfig pipeline_;
};

TEST_F(WithCatalogWindowJobsTest, OverridesStepAndPartitioningAndAddsCatalogOnlyJobs) {
  catalog::WindowJob override_row;
  override_row.pipeline = "deposits";
  override_row.job = "deposits";
  override_row.step = "2 days";
  override_row.partition_by = "branch";
  override_row.upper_bound = 100;
  override_row.num_partitions = 4;
  ASSERT_TRUE(store_->PutWindowJob(override_row, {}).ok());
  ASSERT_TRUE(store_->PutWindowJob(LoansJob(), {}).ok());

  auto effective = WithCatalogWindowJobs(*store_, pipeline_);
  ASSERT_TRUE(effective.ok()) << effective.status();
  ASSERT_EQ(effective->jobs.size(), 2u);
  const auto& deposits = effective->jobs[0];
  EXPECT_EQ(deposits.window.Find("step")->scalar(), "2 days");
  EXPECT_EQ(deposits.window.Find("start")->scalar(), "2018-11-04");
  EXPECT_EQ(deposits.partitioning.Find("column")->scalar(), "branch");
  EXPECT_EQ(deposits.partitioning.Find("upper_bound")->scalar(), "100");
  EXPECT_EQ(deposits.partitioning.Find("num_partitions")->scalar(), "4");
  EXPECT_EQ(deposits.partitioning.Find("lower_bound"), nullptr);

  const auto& loans = effective->jobs[1];
  EXPECT_EQ(loans.name, "loans");
  EXPECT_EQ(loans.mode, config::LoadMode::kWindow);
  EXPECT_EQ(loans.source.Find("connection")->scalar(), "bank");
  EXPECT_EQ(loans.source.Find("table")->scalar(), "public.loans");
  EXPECT_EQ(loans.window.Find("column")->scalar(), "granted");
  EXPECT_EQ(loans.window.Find("stop")->scalar(), "1000");
  EXPECT_TRUE(loans.partitioning.IsNull());
  EXPECT_TRUE(loans.mask.IsNull());  // the template's mask names columns of another table
  EXPECT_EQ(loans.target.zone, "raw");
  EXPECT_EQ(loans.target.table, "loans");

  // A job of the same name in the file would be ambiguous.
  config::JobConfig clash = pipeline_.jobs[0];
  clash.name = "loans";
  pipeline_.jobs.push_back(clash);
  EXPECT_EQ(WithCatalogWindowJobs(*store_, pipeline_).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(WithCatalogWindowJobsTest, CatalogOnlyJobsNeedAWindowJobWithAConnection) {
  ASSERT_TRUE(store_->PutWindowJob(LoansJob(), {}).ok());
  pipeline_.jobs[0].mode = config::LoadMode::kFull;
  auto effective = WithCatalogWindowJobs(*store_, pipeline_);
  ASSERT_FALSE(effective.ok());
  EXPECT_NE(effective.status().message().find("no longer has a mode: window job"), std::string::npos)
      << effective.status().message();
}

}  // namespace
}  // namespace sluice::pipeline
