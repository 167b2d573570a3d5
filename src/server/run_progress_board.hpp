#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/ids.hpp"
#include "pipeline/progress.hpp"

namespace sluice::server {

/// What one job of a run is doing, as its progress listener last heard.
struct LiveJob {
  std::string job;
  std::string state = "running";  // running, then the summary's status (succeeded, failed, …)
  std::string input;              // what it reads ("3 files, 12 MB"), from OnJobStart
  double percentage = -1;         // -1 while unknown
  uint64_t rows = 0, input_bytes = 0;
  double elapsed_seconds = 0;
  std::optional<pipeline::JobSummary> summary;  // once finished
  std::chrono::steady_clock::time_point started;
};

/// The live progress of the runs `sluice serve` executes, per run and job, for
/// GET /api/v1/runs/ID/progress. Held in memory only: the catalog keeps each run's final figures.
/// Listeners are called from the runner's threads; every method is thread-safe.
class RunProgressBoard {
 public:
  /// A listener that records the progress of run `run_id` on this board.
  std::unique_ptr<pipeline::ProgressListener> ListenerFor(const RunId& run_id);

  /// The jobs of `run_id` in the order they started (elapsed time of running jobs up to now);
  /// nullopt when this server has not run it (or has forgotten it: only the latest runs are kept).
  std::optional<std::vector<LiveJob>> Jobs(const RunId& run_id) const;

 private:
  friend class BoardListener;
  void Start(const RunId& run_id, const std::string& job, const std::string& input);
  void Progress(const RunId& run_id, const pipeline::JobProgress& progress);
  void Finish(const RunId& run_id, const pipeline::JobSummary& summary);
  LiveJob& JobLocked(const RunId& run_id, const std::string& job);

  static constexpr size_t kRunsKept = 64;
  mutable std::mutex mutex_;
  std::map<RunId, std::vector<LiveJob>> runs_;
  std::deque<RunId> order_;  // oldest first, to forget beyond kRunsKept
};

}  // namespace sluice::server
