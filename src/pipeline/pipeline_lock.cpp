#include "pipeline/pipeline_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace sluice::pipeline {

Result<std::unique_ptr<PipelineLock>> PipelineLock::TryAcquire(const std::filesystem::path& lock_dir,
                                                               const std::string& pipeline) {
  std::error_code ec;
  std::filesystem::create_directories(lock_dir, ec);
  auto path = lock_dir / (pipeline + ".lock");
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError("cannot open lock file '{}': {}", path.string(), std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buffer[32] = {};
    ssize_t n = ::pread(fd, buffer, sizeof(buffer) - 1, 0);
    ::close(fd);
    std::string holder = n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "another process";
    return Status::Conflict(
        "pipeline '{}' is already running (pid {}); wait for that run to finish, or check `sluice runs`", pipeline,
        holder);
  }
  std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The pid is only informational; the flock is what excludes.
  }
  return std::unique_ptr<PipelineLock>(new PipelineLock(fd));
}

PipelineLock::~PipelineLock() {
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
}

}  // namespace sluice::pipeline
