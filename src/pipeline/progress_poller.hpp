#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "engine/engine.hpp"
#include "pipeline/progress.hpp"

namespace sluice::pipeline {

/// Polls the engine's progress while a statement runs, feeding the listener.
class ProgressPoller {
 public:
  ProgressPoller(engine::Connection& connection, ProgressListener* listener, std::string job, uint64_t input_bytes);
  ~ProgressPoller();
  ProgressPoller(const ProgressPoller&) = delete;
  ProgressPoller& operator=(const ProgressPoller&) = delete;
  double Elapsed() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count(); }

 private:
  std::chrono::steady_clock::time_point started_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace sluice::pipeline
