#include "server/run_progress_board.hpp"

#include <algorithm>

namespace sluice::server {

class BoardListener final : public pipeline::ProgressListener {
 public:
  BoardListener(RunProgressBoard& board, RunId run_id) : board_(board), run_id_(std::move(run_id)) {}
  void OnJobStart(const std::string& job, const std::string& input_summary) override {
    board_.Start(run_id_, job, input_summary);
  }
  void OnJobProgress(const pipeline::JobProgress& progress) override { board_.Progress(run_id_, progress); }
  void OnJobFinish(const pipeline::JobSummary& summary) override { board_.Finish(run_id_, summary); }

 private:
  RunProgressBoard& board_;
  RunId run_id_;
};

std::unique_ptr<pipeline::ProgressListener> RunProgressBoard::ListenerFor(const RunId& run_id) {
  std::lock_guard lock(mutex_);
  if (runs_.emplace(run_id, std::vector<LiveJob>{}).second) {
    order_.push_back(run_id);
    while (order_.size() > kRunsKept) {
      runs_.erase(order_.front());
      order_.pop_front();
    }
  }
  return std::make_unique<BoardListener>(*this, run_id);
}

LiveJob& RunProgressBoard::JobLocked(const RunId& run_id, const std::string& job) {
  auto& jobs = runs_[run_id];
  auto it = std::find_if(jobs.begin(), jobs.end(), [&](const LiveJob& j) { return j.job == job; });
  if (it != jobs.end()) return *it;
  LiveJob fresh;
  fresh.job = job;
  fresh.started = std::chrono::steady_clock::now();
  return jobs.emplace_back(std::move(fresh));
}

void RunProgressBoard::Start(const RunId& run_id, const std::string& job, const std::string& input) {
  std::lock_guard lock(mutex_);
  if (!runs_.count(run_id)) return;  // forgotten: a run older than the kept ones
  LiveJob& live = JobLocked(run_id, job);
  live.state = "running";  // a retried job starts again
  live.started = std::chrono::steady_clock::now();
  live.input = input;
  live.summary.reset();
}

void RunProgressBoard::Progress(const RunId& run_id, const pipeline::JobProgress& progress) {
  std::lock_guard lock(mutex_);
  if (!runs_.count(run_id)) return;
  LiveJob& live = JobLocked(run_id, progress.job);
  live.percentage = progress.percentage;
  live.rows = progress.rows;
  live.input_bytes = progress.input_bytes;
  live.elapsed_seconds = progress.elapsed_seconds;
}

void RunProgressBoard::Finish(const RunId& run_id, const pipeline::JobSummary& summary) {
  std::lock_guard lock(mutex_);
  if (!runs_.count(run_id)) return;
  LiveJob& live = JobLocked(run_id, summary.job);
  live.state = pipeline::ToString(summary.status);
  live.elapsed_seconds = summary.seconds;
  live.summary = summary;
}

std::optional<std::vector<LiveJob>> RunProgressBoard::Jobs(const RunId& run_id) const {
  std::lock_guard lock(mutex_);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return std::nullopt;
  std::vector<LiveJob> jobs = it->second;
  auto now = std::chrono::steady_clock::now();
  for (auto& job : jobs) {
    if (job.state == "running") {
      job.elapsed_seconds = std::chrono::duration<double>(now - job.started).count();
    }
  }
  return jobs;
}

}  // namespace sluice::server
