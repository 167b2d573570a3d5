#include "storage/posix_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <system_error>

namespace sluice::storage {

namespace fs = std::filesystem;

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

Status ErrnoStatus(int err, std::string_view action, const fs::path& path) {
  std::string text = ErrnoText(err);
  switch (err) {
    case ENOENT: return Status::NotFound("cannot {} '{}': {}", action, path.string(), text);
    case EACCES:
    case EPERM:
      return Status::IoError("cannot {} '{}': {}; check that sluice may read and write the lake folder", action,
                             path.string(), text);
    case ENOSPC:
    case EDQUOT:
      return Status::IoError("cannot {} '{}': {}; free space on that filesystem or move the lake", action,
                             path.string(), text);
    case EROFS:
      return Status::IoError("cannot {} '{}': {}; the lake must be on a writable filesystem", action, path.string(),
                             text);
    case EMFILE:
    case ENFILE:
    case EAGAIN:
      return Status::Unavailable("cannot {} '{}': {}; retry later or raise the open-file limit (ulimit -n)", action,
                                 path.string(), text);
    default: return Status::IoError("cannot {} '{}': {}", action, path.string(), text);
  }
}

Status WriteAll(int fd, const char* data, size_t size, const fs::path& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Status::OK();
}

Result<size_t> ReadAt(int fd, char* buffer, size_t size, uint64_t offset, const fs::path& path) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, buffer + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read", path);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Status SyncFolder(const fs::path& folder) {
  FileDescriptor fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "open folder", folder);
  if (::fsync(fd.get()) != 0) return ErrnoStatus(errno, "sync folder", folder);
  return Status::OK();
}

Status SyncFolderAfterPublish(const fs::path& folder) {
  FileDescriptor fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return errno == ENOENT ? Status::OK() : ErrnoStatus(errno, "open folder", folder);
  if (::fsync(fd.get()) != 0) return ErrnoStatus(errno, "sync folder", folder);
  return Status::OK();
}

}  // namespace sluice::storage
