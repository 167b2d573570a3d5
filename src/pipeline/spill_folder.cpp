#include "pipeline/spill_folder.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace sluice::pipeline {
namespace fs = std::filesystem;

namespace {

constexpr const char* kLockSuffix = ".lock";

/// True when `fd` still is the file at `path`: a sweeper may have unlinked the lock file between
/// our open() and flock(), and a lock on an unlinked file protects nothing.
bool StillLinked(int fd, const fs::path& path) {
  struct stat held {
  }, named{};
  if (::fstat(fd, &held) != 0 || ::stat(path.c_str(), &named) != 0) return false;
  return held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

std::string RandomSuffix() {
  std::random_device device;
  return fmt::format("{:08x}", static_cast<uint32_t>(device()));
}

}  // namespace

int SweepStaleSpillFolders(const fs::path& root) {
  int removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path lock_path = it->path();
    if (lock_path.extension() != kLockSuffix || !it->is_regular_file(ec)) continue;
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) continue;  // another sweeper took it meanwhile
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0 || !StillLinked(fd, lock_path)) {
      ::close(fd);  // held: its process is alive
      continue;
    }
    fs::path folder = lock_path;
    folder.replace_extension();
    std::error_code remove_ec;
    fs::remove_all(folder, remove_ec);
    if (remove_ec) {
      spdlog::warn("could not remove the stale spill folder '{}': {}", folder.string(), remove_ec.message());
    } else {
      // The lock file goes last, so a crash in between leaves a lock a later sweep still finds.
      ::unlink(lock_path.c_str());
      ++removed;
    }
    ::close(fd);
  }
  return removed;
}

Result<std::unique_ptr<SpillFolder>> SpillFolder::Claim(const fs::path& root) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return Status::IoError("cannot create the spill folder '{}': {}", root.string(), ec.message());
  int swept = SweepStaleSpillFolders(root);
  if (swept > 0) spdlog::debug("removed {} spill folder(s) of ended processes under '{}'", swept, root.string());
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::string name = fmt::format("{}-{}", ::getpid(), RandomSuffix());
    fs::path lock_path = root / (name + kLockSuffix);
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      return Status::IoError("cannot create the spill lock '{}': {}; check the permissions of '{}'", lock_path.string(),
                             std::strerror(errno), root.string());
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0 || !StillLinked(fd, lock_path)) {
      ::close(fd);  // a sweeper took the brand-new lock for a stale one: pick another name
      continue;
    }
    fs::path folder = root / name;
    fs::create_directory(folder, ec);
    if (ec) {
      ::unlink(lock_path.c_str());
      ::close(fd);
      return Status::IoError("cannot create the spill folder '{}': {}", folder.string(), ec.message());
    }
    return std::unique_ptr<SpillFolder>(new SpillFolder(std::move(folder), std::move(lock_path), fd));
  }
  return Status::IoError("could not claim a spill folder under '{}' after 16 attempts", root.string());
}

SpillFolder::~SpillFolder() {
  std::error_code ec;
  fs::remove_all(path_, ec);
  if (!ec) ::unlink(lock_path_.c_str());
  ::flock(lock_fd_, LOCK_UN);
  ::close(lock_fd_);
}

}  // namespace sluice::pipeline
