#include <gtest/gtest.h>

#include "scheduler/pipeline_triggers.hpp"

namespace sluice::scheduler {
namespace {

using config::Value;

config::PipelineConfig Pipeline(std::string name, Value triggers) {
  config::PipelineConfig pipeline;
  pipeline.name = std::move(name);
  pipeline.triggers = std::move(triggers);
  return pipeline;
}

Value Entry(const std::string& key, Value value) {
  return Value::Map({{key, std::move(value)}}, config::Location{"pipelines/report.yaml", 3, 5}, "triggers[0]");
}

TEST(PipelineTriggersTest, ChainsAndApiAcceptance) {
  std::vector<std::string> known = {"orders", "reviews", "report"};
  auto none = ReadPipelineTriggers(Pipeline("report", Value()), known);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->accepts_api) << "a pipeline without triggers runs on demand";

  auto chained = ReadPipelineTriggers(
      Pipeline(
          "report",
          Value::List({Entry("on_success", Value::List({Value::Scalar("orders"), Value::Scalar("reviews")})),
                       Entry("on_failure", Value::Scalar("orders")), Entry("schedule", Value::Scalar("0 2 * * *"))})),
      known);
  ASSERT_TRUE(chained.ok()) << chained.status();
  EXPECT_EQ(chained->after_success, (std::vector<std::string>{"orders", "reviews"}));
  EXPECT_EQ(chained->after_failure, (std::vector<std::string>{"orders"}));
  EXPECT_FALSE(chained->accepts_api) << "a scheduled pipeline does not start because someone POSTs to it";

  auto webhook =
      ReadPipelineTriggers(Pipeline("report", Value::List({Entry("webhook", Value::Scalar("true"))})), known);
  ASSERT_TRUE(webhook.ok()) << webhook.status();
  EXPECT_TRUE(webhook->accepts_api);
}

TEST(PipelineTriggersTest, UnknownOrSelfChainedPipelinesAreErrorsWithAHint) {
  std::vector<std::string> known = {"orders", "report"};
  auto typo =
      ReadPipelineTriggers(Pipeline("report", Value::List({Entry("on_success", Value::Scalar("ordres"))})), known);
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("'ordres'"), std::string::npos) << typo.status();
  EXPECT_NE(typo.status().message().find("did you mean 'orders'"), std::string::npos) << typo.status();
  auto self =
      ReadPipelineTriggers(Pipeline("report", Value::List({Entry("on_failure", Value::Scalar("report"))})), known);
  ASSERT_FALSE(self.ok());
  EXPECT_NE(self.status().message().find("cannot trigger itself"), std::string::npos) << self.status();
}

}  // namespace
}  // namespace sluice::scheduler
