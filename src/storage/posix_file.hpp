#pragma once

// Internal to storage/: POSIX file calls with their errors as Status (the local object store's
// building blocks).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include <unistd.h>

#include "common/status.hpp"

namespace sluice::storage {

std::string ErrnoText(int err);

/// Turns an errno into a Status whose message says what failed, on which path, and what to try.
Status ErrnoStatus(int err, std::string_view action, const std::filesystem::path& path);

/// Owns one file descriptor.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  /// Closes and reports the error close() gives (on NFS, a failed write can surface only here).
  int Close() {
    int fd = std::exchange(fd_, -1);
    if (fd >= 0 && ::close(fd) != 0 && errno != EINTR) return errno;
    return 0;
  }

 private:
  int fd_ = -1;
};

Status WriteAll(int fd, const char* data, size_t size, const std::filesystem::path& path);

/// Reads up to `size` bytes at `offset`; fewer only at the end of the file.
Result<size_t> ReadAt(int fd, char* buffer, size_t size, uint64_t offset, const std::filesystem::path& path);

Status SyncFolder(const std::filesystem::path& folder);

/// Makes a just-published object's rename durable. A concurrent Delete may already have removed
/// the object and, with it, its emptied folder: then there is nothing left to make durable.
Status SyncFolderAfterPublish(const std::filesystem::path& folder);

}  // namespace sluice::storage
