#include "server/run_progress_board.hpp"

#include <gtest/gtest.h>

namespace sluice::server {
namespace {

TEST(RunProgressBoardTest, FollowsEachJobFromStartToFinish) {
  RunProgressBoard board;
  EXPECT_FALSE(board.Jobs(RunId{"r1"}).has_value());
  auto listener = board.ListenerFor(RunId{"r1"});
  ASSERT_TRUE(board.Jobs(RunId{"r1"}).has_value());
  EXPECT_TRUE(board.Jobs(RunId{"r1"})->empty());

  listener->OnJobStart("load", "2 files, 10 KB");
  pipeline::JobProgress progress;
  progress.job = "load";
  progress.percentage = 40;
  progress.rows = 1200;
  progress.input_bytes = 10240;
  listener->OnJobProgress(progress);
  listener->OnJobStart("clean", "raw.x");
  auto jobs = *board.Jobs(RunId{"r1"});
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].job, "load");
  EXPECT_EQ(jobs[0].state, "running");
  EXPECT_EQ(jobs[0].input, "2 files, 10 KB");
  EXPECT_EQ(jobs[0].percentage, 40);
  EXPECT_EQ(jobs[0].rows, 1200u);
  EXPECT_GE(jobs[0].elapsed_seconds, 0);
  EXPECT_EQ(jobs[1].job, "clean");

  pipeline::JobSummary summary;
  summary.job = "load";
  summary.status = pipeline::JobStatus::kSucceeded;
  summary.rows_written = 1500;
  summary.seconds = 2.5;
  listener->OnJobFinish(summary);
  jobs = *board.Jobs(RunId{"r1"});
  EXPECT_EQ(jobs[0].state, "succeeded");
  EXPECT_EQ(jobs[0].elapsed_seconds, 2.5);  // the job's own figure once finished
  ASSERT_TRUE(jobs[0].summary.has_value());
  EXPECT_EQ(jobs[0].summary->rows_written, 1500);
  EXPECT_EQ(jobs[1].state, "running");
  EXPECT_FALSE(board.Jobs(RunId{"r2"}).has_value());  // runs are kept apart
}

TEST(RunProgressBoardTest, KeepsOnlyTheLatestRuns) {
  RunProgressBoard board;
  std::vector<std::unique_ptr<pipeline::ProgressListener>> listeners;
  for (int i = 0; i < 100; ++i) listeners.push_back(board.ListenerFor(RunId{"run" + std::to_string(i)}));
  EXPECT_FALSE(board.Jobs(RunId{"run0"}).has_value());
  EXPECT_TRUE(board.Jobs(RunId{"run99"}).has_value());
  // A forgotten run's listener reports into nothing rather than bringing it back.
  listeners[0]->OnJobStart("load", "");
  EXPECT_FALSE(board.Jobs(RunId{"run0"}).has_value());
}

}  // namespace
}  // namespace sluice::server
