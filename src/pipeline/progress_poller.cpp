#include "pipeline/progress_poller.hpp"

#include <spdlog/spdlog.h>

namespace sluice::pipeline {

ProgressPoller::ProgressPoller(engine::Connection& connection, ProgressListener* listener, std::string job,
                               uint64_t input_bytes)
    : started_(std::chrono::steady_clock::now()) {
  if (listener == nullptr) return;
  thread_ = std::thread([this, &connection, listener, job = std::move(job), input_bytes] {
    // Progress is a display: a listener that throws stops the display, not the job or the process.
    try {
      std::unique_lock lock(mutex_);
      while (!cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stop_; })) {
        auto p = connection.CurrentProgress();
        JobProgress progress;
        progress.job = job;
        progress.percentage = p.percentage;
        progress.rows = p.rows_processed;
        progress.input_bytes = input_bytes;
        progress.elapsed_seconds = Elapsed();
        listener->OnJobProgress(progress);
      }
    } catch (const std::exception& e) {
      spdlog::warn("progress of job '{}' is no longer reported: {}", job, e.what());
    } catch (...) {
      spdlog::warn("progress of job '{}' is no longer reported", job);
    }
  });
}

ProgressPoller::~ProgressPoller() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace sluice::pipeline
