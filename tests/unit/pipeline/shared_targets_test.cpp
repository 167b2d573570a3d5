#include "pipeline/shared_targets.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sluice::pipeline {
namespace {
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

config::JobConfig Job(std::string name, std::string zone, std::string table, int line) {
  config::JobConfig job;
  job.name = std::move(name);
  job.location = config::Location{"pipelines/p.yaml", line, 3};
  job.target.zone = std::move(zone);
  job.target.table = std::move(table);
  return job;
}

config::PipelineConfig Pipeline(std::string name, std::vector<config::JobConfig> jobs) {
  config::PipelineConfig pipeline;
  pipeline.name = std::move(name);
  pipeline.jobs = std::move(jobs);
  return pipeline;
}

TEST(SharedTargetsTest, TwoJobsWritingOneTableAreNamedWithTheirPipelines) {
  std::vector<config::PipelineConfig> pipelines = {
      Pipeline("crm", {Job("load", "raw", "customers", 4), Job("current", "silver", "customers", 9)}),
      Pipeline("manual", {Job("fixes", "silver", "customers", 2)}),
      Pipeline("orders", {Job("orders", "raw", "orders", 1)}),
  };
  auto problems = SharedTargetProblems(pipelines);
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_THAT(problems[0], HasSubstr("table silver.customers is the target of 2 jobs"));
  EXPECT_THAT(problems[0], HasSubstr("job 'current' of pipeline 'crm' (pipelines/p.yaml:9:3)"));
  EXPECT_THAT(problems[0], HasSubstr("job 'fixes' of pipeline 'manual' (pipelines/p.yaml:2:3)"));

  EXPECT_THAT(SharedTargetProblems(pipelines, "manual"), SizeIs(1));
  EXPECT_THAT(SharedTargetProblems(pipelines, "orders"), IsEmpty()) << "only the tables of the pipeline asked about";
}

TEST(SharedTargetsTest, OneJobPerTableAndTheSameNameInAnotherZoneAreFine) {
  std::vector<config::PipelineConfig> pipelines = {
      Pipeline("crm", {Job("load", "raw", "customers", 4), Job("current", "silver", "customers", 9)}),
  };
  EXPECT_THAT(SharedTargetProblems(pipelines), IsEmpty());
  pipelines.push_back(Pipeline("crm_again", {Job("load", "raw", "customers", 4)}));
  EXPECT_THAT(SharedTargetProblems(pipelines), SizeIs(1));
}

}  // namespace
}  // namespace sluice::pipeline
