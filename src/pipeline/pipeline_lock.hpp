#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "common/status.hpp"

namespace sluice::pipeline {

/// Exclusive right to run one pipeline of a project on this machine. Backed by flock(2), so a
/// crashed run can never leave a stale lock behind.
class PipelineLock {
 public:
  /// Status::Conflict naming the holder's pid when another process runs the pipeline.
  static Result<std::unique_ptr<PipelineLock>> TryAcquire(const std::filesystem::path& lock_dir,
                                                          const std::string& pipeline);
  ~PipelineLock();
  PipelineLock(const PipelineLock&) = delete;
  PipelineLock& operator=(const PipelineLock&) = delete;

 private:
  explicit PipelineLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace sluice::pipeline
