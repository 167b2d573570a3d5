#include "pipeline/run_control.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace sluice::pipeline {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

config::Value Defaults(std::string_view yaml) {
  auto parsed = config::ParseYaml(yaml, "sluice.yaml", config::ParseOptions{});
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return *parsed;
}

TEST(RetryPolicyTest, JobRetriesWinOverProjectDefaults) {
  config::JobConfig job;
  job.retries = 4;
  auto policy = RetryPolicy::ForJob(job, Defaults("retries: 1\n"));
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->max_retries, 4);
  job.retries.reset();
  policy = RetryPolicy::ForJob(job, Defaults("retries: 1\n"));
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->max_retries, 1);
  policy = RetryPolicy::ForJob(job, config::Value());
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->max_retries, 0);
}

TEST(RetryPolicyTest, BackoffDoublesUpToTheCap) {
  config::JobConfig job;
  auto policy = RetryPolicy::ForJob(job, Defaults("retry_backoff: 2s\nretry_backoff_max: 10s\n"));
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(policy->BackoffBefore(1), seconds(2));
  EXPECT_EQ(policy->BackoffBefore(2), seconds(4));
  EXPECT_EQ(policy->BackoffBefore(3), seconds(8));
  EXPECT_EQ(policy->BackoffBefore(4), seconds(10));
  EXPECT_EQ(policy->BackoffBefore(500), seconds(10));  // no overflow far out
}

TEST(RetryPolicyTest, OnlyRetryableFailuresWithinTheBudgetRunAgain) {
  RetryPolicy policy;
  policy.max_retries = 2;
  EXPECT_TRUE(policy.ShouldRetry(1, true));
  EXPECT_TRUE(policy.ShouldRetry(2, true));
  EXPECT_FALSE(policy.ShouldRetry(3, true));   // 1 run + 2 retries used up
  EXPECT_FALSE(policy.ShouldRetry(1, false));  // a config or data error stays an error
}

TEST(RetryPolicyTest, BadDefaultsNameTheKey) {
  config::JobConfig job;
  auto policy = RetryPolicy::ForJob(job, Defaults("retry_backoff: soon\n"));
  ASSERT_FALSE(policy.ok());
  EXPECT_NE(policy.status().message().find("defaults.retry_backoff"), std::string::npos) << policy.status().message();
  auto parallel = MaxParallelJobs(Defaults("max_parallel_jobs: 0\n"));
  ASSERT_FALSE(parallel.ok());
  EXPECT_NE(parallel.status().message().find("defaults.max_parallel_jobs"), std::string::npos);
}

TEST(JobTimeoutTest, JobTimeoutElseDefaultElseNone) {
  config::JobConfig job;
  EXPECT_EQ(*JobTimeout(job, config::Value()), microseconds(0));
  EXPECT_EQ(*JobTimeout(job, Defaults("timeout: 30m\n")), std::chrono::minutes(30));
  job.timeout = seconds(5);
  EXPECT_EQ(*JobTimeout(job, Defaults("timeout: 30m\n")), seconds(5));
}

TEST(RunCancellationTest, CancelWakesASleeperAndKeepsTheFirstReason) {
  RunCancellation cancellation;
  EXPECT_TRUE(cancellation.SleepUnlessCancelled(milliseconds(1)));
  std::thread canceller([&] { cancellation.Cancel("operator asked"); });
  // Would sleep an hour unless the cancellation wakes it.
  EXPECT_FALSE(cancellation.SleepUnlessCancelled(std::chrono::hours(1)));
  canceller.join();
  cancellation.Cancel("second reason");
  EXPECT_TRUE(cancellation.cancelled());
  EXPECT_EQ(cancellation.reason(), "operator asked");
}

TEST(JobInterruptTest, ReasonDecidesRetryability) {
  JobInterrupt timeout;
  EXPECT_TRUE(timeout.reason().ok());
  timeout.Trigger(Status::Timeout("ran too long"));
  timeout.Trigger(Status::Cancelled("later"));
  EXPECT_EQ(timeout.reason().code(), StatusCode::kTimeout);
  EXPECT_TRUE(timeout.reason().retryable());
  JobInterrupt cancel;
  cancel.Trigger(Status::Cancelled("stop"));
  EXPECT_FALSE(cancel.reason().retryable());
}

}  // namespace
}  // namespace sluice::pipeline
