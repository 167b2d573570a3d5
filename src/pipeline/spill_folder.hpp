#pragma once

#include <filesystem>
#include <memory>

#include "common/status.hpp"

namespace sluice::pipeline {

/// This process's own folder for the engine's spill files, <root>/<pid>-<random>/. DuckDB names
/// spill files by block size and deletes every one it finds on close, so processes sharing one
/// folder would destroy each other's spill (a `sluice query` ending under a running `sluice serve`).
///
/// Liveness is an flock held on <root>/<pid>-<random>.lock for the process's lifetime: a lock file
/// that can be locked belongs to a process that is gone (killed, crashed), whatever its pid now
/// names, and Claim() removes that folder and lock. The destructor removes the process's own.
class SpillFolder {
 public:
  static Result<std::unique_ptr<SpillFolder>> Claim(const std::filesystem::path& root);
  ~SpillFolder();
  SpillFolder(const SpillFolder&) = delete;
  SpillFolder& operator=(const SpillFolder&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  SpillFolder(std::filesystem::path path, std::filesystem::path lock_path, int lock_fd)
      : path_(std::move(path)), lock_path_(std::move(lock_path)), lock_fd_(lock_fd) {}
  std::filesystem::path path_;
  std::filesystem::path lock_path_;
  int lock_fd_;
};

/// Removes the spill folders under `root` whose owner is gone; returns how many. Folders without
/// a lock file are not sluice's and stay.
int SweepStaleSpillFolders(const std::filesystem::path& root);

}  // namespace sluice::pipeline
