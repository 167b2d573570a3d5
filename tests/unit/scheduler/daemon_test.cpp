// The daemon of `sluice serve` against a real project on disk: a queued run executes on a worker,
// its success queues the pipeline chained to it (on_success), a trigger event queues one run, and
// Stop() leaves nothing running. Waits are for observable states (run records), never for time.
#include "scheduler/daemon.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "unit/project_support.hpp"
#include "unit/wait_support.hpp"

namespace sluice::scheduler {
namespace {
using ::testing::HasSubstr;

class DaemonTest : public ::testing::Test, protected test_support::WithProject {
 protected:
  void SetUp() override {
    CreateProject("sluice-daemon");
    Write("sluice.yaml", "project: daemon\nlake: ./lake\n");
    Write("pipelines/shop.yaml",
          "name: shop\ntriggers:\n  - webhook: true\n"
          "source: { type: files, path: data/orders.csv, format: csv }\ntarget: { zone: raw, table: orders }\n");
    Write("pipelines/after.yaml",
          "name: after\ntriggers:\n  - on_success: shop\n"
          "source: { table: raw.orders }\ntarget: { zone: silver, table: orders }\n");
    Write("data/orders.csv", "id,amount\n1,10\n2,20\n");
    ASSERT_NO_FATAL_FAILURE(OpenProject());
  }
  void TearDown() override {
    daemon_.reset();
    RemoveProject();
  }

  Daemon& StartDaemon() {
    DaemonOptions options;
    options.max_idle = std::chrono::milliseconds(50);
    daemon_ = std::make_unique<Daemon>(*ws_, project_, pipelines_, options);
    Status started = daemon_->Start();
    EXPECT_TRUE(started.ok()) << started;
    return *daemon_;
  }

  /// The newest finished run of `pipeline`, once there is one (a generous deadline, not a timing).
  std::optional<catalog::RunRecord> WaitForFinishedRun(const std::string& pipeline) {
    std::optional<catalog::RunRecord> finished;
    test_support::WaitUntil(
        [&] {
          auto runs = ws_->catalog().ListRuns(10, pipeline);
          if (!runs.ok()) return false;
          for (const auto& run : *runs) {
            if (run.status != catalog::RunStatus::kRunning) finished = run;
          }
          return finished.has_value();
        },
        std::chrono::minutes(2));
    return finished;
  }

  std::unique_ptr<Daemon> daemon_;
};

TEST_F(DaemonTest, AQueuedRunExecutesAndItsSuccessQueuesTheChainedPipeline) {
  Daemon& daemon = StartDaemon();
  auto queued = daemon.Enqueue("shop", "api", "", "from the test");
  ASSERT_TRUE(queued.ok()) << queued.status();
  EXPECT_TRUE(queued->created);

  auto shop = WaitForFinishedRun("shop");
  ASSERT_TRUE(shop.has_value()) << "the queued run of shop never finished";
  EXPECT_EQ(shop->id, queued->id) << "the queue entry's id is the run's id";
  EXPECT_EQ(shop->status, catalog::RunStatus::kSucceeded) << shop->error;
  EXPECT_EQ(shop->trigger, "api");

  auto after = WaitForFinishedRun("after");
  ASSERT_TRUE(after.has_value()) << "on_success: shop never ran";
  EXPECT_EQ(after->status, catalog::RunStatus::kSucceeded) << after->error;
  daemon.Stop();
  EXPECT_TRUE(daemon.RunningRuns().empty());
}

TEST_F(DaemonTest, OneTriggerEventQueuesOneRunAndUnknownPipelinesAreRefused) {
  Daemon& daemon = StartDaemon();
  auto first = daemon.Enqueue("shop", "api", "delivery-42", "");
  ASSERT_TRUE(first.ok()) << first.status();
  auto again = daemon.Enqueue("shop", "api", "delivery-42", "");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->id, first->id);

  auto unknown = daemon.Enqueue("shpo", "api", "", "");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(), HasSubstr("shop"));
  EXPECT_TRUE(daemon.AcceptsApiTrigger("shop"));
  EXPECT_FALSE(daemon.AcceptsApiTrigger("after")) << "only on_success: not startable over the API";
  ASSERT_TRUE(WaitForFinishedRun("shop").has_value());
  daemon.Stop();
}

TEST_F(DaemonTest, ASecondDaemonOfTheProjectIsRefused) {
  StartDaemon();
  DaemonOptions options;
  Daemon second(*ws_, project_, pipelines_, options);
  Status started = second.Start();
  EXPECT_FALSE(started.ok());
  daemon_->Stop();
}

}  // namespace
}  // namespace sluice::scheduler
