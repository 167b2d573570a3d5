#include "storage/local_object_store.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <new>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "common/ids.hpp"
#include "common/strings.hpp"
#include "storage/posix_file.hpp"

namespace sluice::storage {
namespace {

namespace fs = std::filesystem;

constexpr size_t kWriteBufferBytes = 256 * 1024;
constexpr size_t kCopyChunkBytes = 1024 * 1024;
// A folder emptied by a concurrent Delete can vanish between creating it and using it; a few
// retries make that race invisible to callers.
constexpr int kFolderRaceRetries = 200;  // each retry yields; contention ends when the deleter does
// A single path segment longer than this is refused by Linux filesystems (NAME_MAX).
constexpr size_t kMaxSegmentBytes = 255;

uint64_t MtimeNanos(const struct stat& st) {
  return static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ULL + static_cast<uint64_t>(st.st_mtim.tv_nsec);
}

ObjectInfo InfoFromStat(std::string key, const struct stat& st) {
  ObjectInfo info;
  info.key = std::move(key);
  info.size = static_cast<uint64_t>(st.st_size);
  uint64_t ns = MtimeNanos(st);
  info.modified = TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::nanoseconds(ns)));
  info.etag = fmt::format("{}-{}", info.size, ns);
  return info;
}

/// The folder part of a key ("a/b/c" -> "a/b", "c" -> "").
std::string_view KeyFolder(std::string_view key) {
  size_t slash = key.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : key.substr(0, slash);
}

/// Removes now-empty folders from `folder` (relative to `root`) upwards, never `root` itself.
/// rmdir refuses non-empty folders, so a concurrent writer's temp file protects its folder.
void RemoveEmptyFolders(const fs::path& root, std::string_view folder) {
  while (!folder.empty()) {
    if (::rmdir((root / std::string(folder)).c_str()) != 0) return;
    folder = KeyFolder(folder);
  }
}

/// Creates the folders of `key` below `root`. With `sync`, each new folder's entry is made durable.
Status MakeKeyFolders(const fs::path& root, std::string_view key, bool sync) {
  std::string_view folder = KeyFolder(key);
  size_t pos = 0;
  int restarts = 0;
  while (!folder.empty()) {
    size_t slash = folder.find('/', pos);
    std::string_view rel = folder.substr(0, slash == std::string_view::npos ? folder.size() : slash);
    fs::path dir = root / std::string(rel);
    int err = ::mkdir(dir.c_str(), 0777) == 0 ? 0 : errno;
    if (err == 0 && sync) {
      // NotFound: a concurrent Delete removed the (then empty) parent before it was synced.
      Status synced = SyncFolder(dir.parent_path());
      if (synced.code() == StatusCode::kNotFound)
        err = ENOENT;
      else
        SLUICE_TRY(synced);
    }
    if (err == ENOENT) {
      std::error_code ec;
      if (!fs::is_directory(root, ec)) {
        return Status::NotFound("cannot store object '{}': the lake folder '{}' no longer exists", key, root.string());
      }
      // A concurrent Delete removed a parent we had just created; start again from the top.
      if (++restarts > kFolderRaceRetries) return ErrnoStatus(ENOENT, "create folder", dir);
      std::this_thread::yield();
      pos = 0;
      continue;
    }
    if (err == EEXIST) {
      struct stat st {};
      if (::stat(dir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
        return Status::AlreadyExists(
            "cannot store object '{}': '{}' is already an object, and a local lake cannot hold an object and a "
            "folder of the same name; choose another key",
            key, rel);
      }
    } else if (err != 0) {
      return ErrnoStatus(err, "create folder", dir);
    }
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  return Status::OK();
}

Status CheckSegmentLengths(std::string_view key) {
  size_t start = 0;
  while (start < key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    if (end - start > kMaxSegmentBytes) {
      return Status::Invalid(
          "invalid object key '{}': the local filesystem allows at most {} bytes per folder or file name", key,
          kMaxSegmentBytes);
    }
    start = end + 1;
  }
  return Status::OK();
}

class LocalObjectReader final : public ObjectReader {
 public:
  LocalObjectReader(FileDescriptor fd, fs::path path, uint64_t position, uint64_t end)
      : fd_(std::move(fd)), path_(std::move(path)), position_(position), end_(end) {}

  Result<size_t> Read(char* buffer, size_t size) override {
    if (position_ >= end_ || size == 0) return size_t{0};
    size_t want = static_cast<size_t>(std::min<uint64_t>(size, end_ - position_));
    SLUICE_ASSIGN_OR_RETURN(size_t got, ReadAt(fd_.get(), buffer, want, position_, path_));
    // Objects are replaced by rename, never rewritten, so a short read means someone truncated the
    // file behind the store's back; end the stream rather than loop.
    if (got == 0) end_ = position_;
    position_ += got;
    return got;
  }

 private:
  FileDescriptor fd_;
  fs::path path_;
  uint64_t position_;
  uint64_t end_;
};

class LocalObjectWriter final : public ObjectWriter {
 public:
  LocalObjectWriter(fs::path root, std::string key, fs::path final_path, fs::path temp_path, FileDescriptor fd,
                    bool sync)
      : root_(std::move(root)),
        key_(std::move(key)),
        final_path_(std::move(final_path)),
        temp_path_(std::move(temp_path)),
        fd_(std::move(fd)),
        sync_(sync) {}

  ~LocalObjectWriter() override { Abort(); }

  Status Write(std::string_view data) override {
    SLUICE_TRY(CheckOpen("write to"));
    if (buffer_.size() + data.size() <= kWriteBufferBytes) {
      buffer_.append(data);
      return Status::OK();
    }
    Status st = Flush();
    if (st.ok()) {
      if (data.size() >= kWriteBufferBytes) {
        st = WriteAll(fd_.get(), data.data(), data.size(), temp_path_);
      } else {
        buffer_.append(data);
      }
    }
    return Fail(std::move(st));
  }

  Status Finish() override {
    SLUICE_TRY(CheckOpen("finish"));
    SLUICE_TRY(Fail(Flush()));
    if (sync_ && ::fsync(fd_.get()) != 0) return Fail(ErrnoStatus(errno, "sync", temp_path_));
    if (int err = fd_.Close(); err != 0) return Fail(ErrnoStatus(err, "close", temp_path_));
    if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
      int err = errno;
      if (err == EISDIR || err == ENOTEMPTY || err == EEXIST) {
        return Fail(Status::AlreadyExists(
            "cannot store object '{}': '{}' is a folder of other objects, and a local lake cannot hold an object "
            "and a folder of the same name; choose another key",
            key_, final_path_.string()));
      }
      return Fail(ErrnoStatus(err, "rename into place", final_path_));
    }
    state_ = State::kFinished;
    if (sync_) {
      Status st = SyncFolderAfterPublish(final_path_.parent_path());
      if (!st.ok()) return st.WithContext("object '{}' was written but may not survive a power loss", key_);
    }
    return Status::OK();
  }

  void Abort() override {
    if (state_ != State::kOpen) return;
    state_ = State::kAborted;
    fd_.Reset();
    ::unlink(temp_path_.c_str());
    RemoveEmptyFolders(root_, KeyFolder(key_));
  }

 private:
  enum class State { kOpen, kFinished, kAborted };

  Status CheckOpen(std::string_view action) const {
    if (state_ == State::kOpen) return Status::OK();
    if (!failure_.ok()) {
      return Status::Invalid("cannot {} object '{}': an earlier write failed and the object was discarded ({})", action,
                             key_, failure_.message());
    }
    return Status::Invalid("cannot {} object '{}': the writer was already {}", action, key_,
                           state_ == State::kFinished ? "finished" : "aborted");
  }

  /// A writer that lost bytes must never publish a truncated object, so any failure aborts it.
  Status Fail(Status st) {
    if (st.ok() || state_ != State::kOpen) return st;
    failure_ = st.code() == StatusCode::kAlreadyExists ? st : st.WithContext("cannot store object '{}'", key_);
    Abort();
    return failure_;
  }

  Status Flush() {
    if (buffer_.empty()) return Status::OK();
    Status st = WriteAll(fd_.get(), buffer_.data(), buffer_.size(), temp_path_);
    buffer_.clear();
    return st;
  }

  fs::path root_;
  std::string key_;
  fs::path final_path_;
  fs::path temp_path_;
  FileDescriptor fd_;
  bool sync_;
  std::string buffer_;
  State state_ = State::kOpen;
  Status failure_;
};

class LocalObjectStore final : public ObjectStore {
 public:
  LocalObjectStore(fs::path root, LocalObjectStoreOptions options) : root_(std::move(root)), options_(options) {}

  std::string Describe() const override { return "file://" + root_.string(); }

  Status Put(const std::string& key, std::string_view data) override {
    SLUICE_ASSIGN_OR_RETURN(auto writer, OpenWrite(key));
    SLUICE_TRY(writer->Write(data));
    return writer->Finish();
  }

  Status PutFile(const std::string& key, const fs::path& local, bool consume) override {
    SLUICE_TRY(CheckKey(key));
    struct stat st {};
    if (::stat(local.c_str(), &st) != 0) {
      int err = errno;
      if (err == ENOENT || err == ENOTDIR) {
        return Status::NotFound("cannot store object '{}': local file '{}' does not exist", key, local.string());
      }
      return ErrnoStatus(err, "read local file", local);
    }
    if (!S_ISREG(st.st_mode)) {
      return Status::Invalid("cannot store object '{}': '{}' is not a regular file", key, local.string());
    }
    if (consume) {
      SLUICE_ASSIGN_OR_RETURN(bool moved, TryRenameInto(key, local));
      if (moved) return Status::OK();
    }
    SLUICE_TRY(CopyInto(key, local));
    if (consume && ::unlink(local.c_str()) != 0 && errno != ENOENT) {
      spdlog::warn("object '{}' was stored, but the consumed local file '{}' could not be removed: {}", key,
                   local.string(), ErrnoText(errno));
    }
    return Status::OK();
  }

  Result<std::string> Get(const std::string& key) override {
    SLUICE_TRY(CheckKey(key));
    SLUICE_ASSIGN_OR_RETURN(auto opened, OpenObject(key));
    auto& [fd, st] = opened;
    std::string data;
    try {
      data.resize(static_cast<size_t>(st.st_size));
    } catch (const std::exception&) {
      return Status::IoError("cannot read object '{}' ({} bytes) into memory; stream it with OpenRead instead", key,
                             HumanBytes(static_cast<uint64_t>(st.st_size)));
    }
    SLUICE_ASSIGN_OR_RETURN(size_t got, ReadAt(fd.get(), data.data(), data.size(), 0, PathOf(key)));
    data.resize(got);
    return data;
  }

  Status GetToFile(const std::string& key, const fs::path& local) override {
    SLUICE_TRY(CheckKey(key));
    SLUICE_ASSIGN_OR_RETURN(auto opened, OpenObject(key));
    auto& [src, st] = opened;
    fs::path folder = local.parent_path();
    if (folder.empty()) folder = ".";
    std::error_code ec;
    fs::create_directories(folder, ec);
    if (ec) return ErrnoStatus(ec.value(), "create folder", folder);
    // Download next to the destination and rename, so the destination is never half written.
    fs::path temp = folder / fmt::format("{}{}", kLocalTempPrefix, RandomHex(8));
    FileDescriptor dst(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
    if (!dst.valid()) return ErrnoStatus(errno, "create", temp);
    Status status = CopyFd(src.get(), static_cast<uint64_t>(st.st_size), dst.get(), PathOf(key), temp);
    if (status.ok()) {
      if (int err = dst.Close(); err != 0) status = ErrnoStatus(err, "close", temp);
    }
    if (status.ok() && ::rename(temp.c_str(), local.c_str()) != 0) {
      status = ErrnoStatus(errno, "rename into place", local);
    }
    if (!status.ok()) {
      dst.Reset();
      ::unlink(temp.c_str());
      return status.WithContext("while copying object '{}' to '{}'", key, local.string());
    }
    return Status::OK();
  }

  Result<std::unique_ptr<ObjectReader>> OpenRead(const std::string& key, uint64_t offset,
                                                 std::optional<uint64_t> length) override {
    SLUICE_TRY(CheckKey(key));
    SLUICE_ASSIGN_OR_RETURN(auto opened, OpenObject(key));
    auto& [fd, st] = opened;
    auto size = static_cast<uint64_t>(st.st_size);
    if (offset > size) {
      return Status::Invalid("cannot read object '{}' from offset {}: the object has only {} bytes", key, offset, size);
    }
    uint64_t end = size;
    if (length && *length < size - offset) end = offset + *length;
    return std::unique_ptr<ObjectReader>(std::make_unique<LocalObjectReader>(std::move(fd), PathOf(key), offset, end));
  }

  Result<std::unique_ptr<ObjectWriter>> OpenWrite(const std::string& key) override {
    SLUICE_TRY(CheckKey(key));
    fs::path final_path = PathOf(key);
    struct stat st {};
    if (::stat(final_path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      return Status::AlreadyExists(
          "cannot store object '{}': it is a folder of other objects, and a local lake cannot hold an object and a "
          "folder of the same name; choose another key",
          key);
    }
    fs::path folder = final_path.parent_path();
    for (int attempt = 0;; ++attempt) {
      SLUICE_TRY(MakeKeyFolders(root_, key, options_.sync));
      fs::path temp = folder / fmt::format("{}{}", kLocalTempPrefix, RandomHex(8));
      FileDescriptor fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
      if (fd.valid()) {
        return std::unique_ptr<ObjectWriter>(std::make_unique<LocalObjectWriter>(
            root_, key, std::move(final_path), std::move(temp), std::move(fd), options_.sync));
      }
      int err = errno;
      if ((err == ENOENT || err == EEXIST) && attempt < kFolderRaceRetries) continue;
      return ErrnoStatus(err, "create", temp).WithContext("cannot store object '{}'", key);
    }
  }

  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override {
    SLUICE_TRY(ValidateObjectPrefix(prefix));
    std::vector<ObjectInfo> out;
    std::string folder(KeyFolder(prefix));
    std::string_view name_start = std::string_view(prefix).substr(folder.empty() ? 0 : folder.size() + 1);
    SLUICE_TRY(Walk(folder, name_start, &out).WithContext("while listing '{}' in {}", prefix, Describe()));
    std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  Result<ObjectInfo> Stat(const std::string& key) override {
    SLUICE_TRY(CheckKey(key));
    fs::path path = PathOf(key);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      int err = errno;
      if (err == ENOENT || err == ENOTDIR) return NotFound(key);
      return ErrnoStatus(err, "stat", path);
    }
    if (!S_ISREG(st.st_mode)) return NotFound(key);
    return InfoFromStat(key, st);
  }

  Status Delete(const std::string& key) override {
    SLUICE_TRY(CheckKey(key));
    return DeleteValid(key);
  }

  Status DeleteMany(const std::vector<std::string>& keys) override {
    for (const auto& key : keys) SLUICE_TRY(CheckKey(key));
    size_t failures = 0;
    Status first;
    for (const auto& key : keys) {
      Status st = DeleteValid(key);
      if (!st.ok() && failures++ == 0) first = st;
    }
    if (failures == 0) return Status::OK();
    return first.WithContext("{} of {} objects could not be deleted; first failure", failures, keys.size());
  }

  std::optional<fs::path> LocalPath(const std::string& key) const override {
    if (!ValidateObjectKey(key).ok()) return std::nullopt;
    return PathOf(key);
  }

 private:
  fs::path PathOf(std::string_view key) const { return root_ / std::string(key); }

  Status CheckKey(std::string_view key) const {
    SLUICE_TRY(ValidateObjectKey(key));
    return CheckSegmentLengths(key);
  }

  Status NotFound(std::string_view key) const {
    return Status::NotFound("object '{}' does not exist in {}", key, Describe());
  }

  /// Opens an existing object for reading; a folder or a missing file is NotFound.
  Result<std::pair<FileDescriptor, struct stat>> OpenObject(std::string_view key) const {
    fs::path path = PathOf(key);
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
      int err = errno;
      if (err == ENOENT || err == ENOTDIR) return NotFound(key);
      return ErrnoStatus(err, "open", path);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "stat", path);
    if (!S_ISREG(st.st_mode)) return NotFound(key);
    return std::make_pair(std::move(fd), st);
  }

  Status DeleteValid(std::string_view key) {
    fs::path path = PathOf(key);
    if (::unlink(path.c_str()) != 0) {
      int err = errno;
      // A folder is not an object, so there is nothing to delete under that key.
      if (err == ENOENT || err == ENOTDIR || err == EISDIR) return Status::OK();
      return ErrnoStatus(err, "delete", path).WithContext("cannot delete object '{}'", key);
    }
    RemoveEmptyFolders(root_, KeyFolder(key));
    return Status::OK();
  }

  /// Moves `local` into place when it is on the lake's filesystem; false when it is not (copy instead).
  Result<bool> TryRenameInto(const std::string& key, const fs::path& local) {
    fs::path final_path = PathOf(key);
    if (options_.sync) {
      FileDescriptor fd(::open(local.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd.valid()) return ErrnoStatus(errno, "open", local);
      if (::fsync(fd.get()) != 0) return ErrnoStatus(errno, "sync", local);
    }
    for (int attempt = 0;; ++attempt) {
      SLUICE_TRY(MakeKeyFolders(root_, key, options_.sync));
      if (::rename(local.c_str(), final_path.c_str()) == 0) break;
      int err = errno;
      if (err == EXDEV) return false;
      if (err == EISDIR || err == ENOTEMPTY || err == EEXIST) {
        return Status::AlreadyExists(
            "cannot store object '{}': it is a folder of other objects, and a local lake cannot hold an object "
            "and a folder of the same name; choose another key",
            key);
      }
      std::error_code ec;
      if (err == ENOENT && attempt < kFolderRaceRetries && fs::exists(local, ec)) continue;
      return ErrnoStatus(err, "move into the lake", local).WithContext("cannot store object '{}'", key);
    }
    if (options_.sync) SLUICE_TRY(SyncFolderAfterPublish(final_path.parent_path()));
    return true;
  }

  Status CopyInto(const std::string& key, const fs::path& local) {
    FileDescriptor src(::open(local.c_str(), O_RDONLY | O_CLOEXEC));
    if (!src.valid()) return ErrnoStatus(errno, "open", local).WithContext("cannot store object '{}'", key);
    SLUICE_ASSIGN_OR_RETURN(auto writer, OpenWrite(key));
    std::string chunk(kCopyChunkBytes, '\0');
    uint64_t offset = 0;
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(size_t got, ReadAt(src.get(), chunk.data(), chunk.size(), offset, local));
      if (got == 0) break;
      SLUICE_TRY(writer->Write(std::string_view(chunk.data(), got)));
      offset += got;
    }
    return writer->Finish();
  }

  static Status CopyFd(int src, uint64_t size, int dst, const fs::path& src_path, const fs::path& dst_path) {
    std::string chunk(static_cast<size_t>(std::min<uint64_t>(kCopyChunkBytes, std::max<uint64_t>(size, 1))), '\0');
    uint64_t offset = 0;
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(size_t got, ReadAt(src, chunk.data(), chunk.size(), offset, src_path));
      if (got == 0) return Status::OK();
      SLUICE_TRY(WriteAll(dst, chunk.data(), got, dst_path));
      offset += got;
    }
  }

  /// Adds every object below `folder` whose first name (directly in `folder`) starts with `name_start`.
  Status Walk(const std::string& folder, std::string_view name_start, std::vector<ObjectInfo>* out) const {
    fs::path dir = folder.empty() ? root_ : PathOf(folder);
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) {
      // A missing prefix lists nothing; so does a prefix that is an object rather than a folder.
      if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) return Status::OK();
      return ErrnoStatus(ec.value(), "list folder", dir);
    }
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) return ErrnoStatus(ec.value(), "list folder", dir);
      std::string name = it->path().filename().string();
      if (!StartsWith(name, name_start) || StartsWith(name, kLocalTempPrefix)) continue;
      std::string key = folder.empty() ? name : folder + "/" + name;
      // Keys are bounded, so a symlink loop ends here instead of recursing forever.
      if (key.size() > kMaxKeyBytes) continue;
      struct stat st {};
      if (::stat(it->path().c_str(), &st) != 0) {
        // Deleted while we were listing, a dangling symlink, or a symlink loop: not an object.
        if (errno == ENOENT || errno == ELOOP) continue;
        return ErrnoStatus(errno, "stat", it->path());
      }
      if (S_ISDIR(st.st_mode)) {
        SLUICE_TRY(Walk(key, "", out));
      } else if (S_ISREG(st.st_mode)) {
        out->push_back(InfoFromStat(std::move(key), st));
      }
    }
    return Status::OK();
  }

  fs::path root_;
  LocalObjectStoreOptions options_;
};

}  // namespace

Result<std::unique_ptr<ObjectStore>> MakeLocalObjectStore(const fs::path& root,
                                                          const LocalObjectStoreOptions& options) {
  if (root.empty()) return Status::Invalid("empty lake folder: set 'lake:' to a folder such as ./lake");
  std::error_code ec;
  fs::path absolute = fs::absolute(root, ec);
  if (ec) return ErrnoStatus(ec.value(), "resolve lake folder", root);
  absolute = absolute.lexically_normal();
  if (!absolute.has_filename() && absolute.has_relative_path()) absolute = absolute.parent_path();
  fs::create_directories(absolute, ec);
  std::error_code type_ec;
  fs::file_status status = fs::status(absolute, type_ec);
  if (fs::exists(status) && !fs::is_directory(status)) {
    return Status::Invalid("lake folder '{}' is a file; point 'lake:' at a folder", absolute.string());
  }
  if (ec || !fs::is_directory(status)) {
    return ErrnoStatus(ec ? ec.value() : (type_ec ? type_ec.value() : ENOTDIR), "create lake folder", absolute);
  }
  return std::unique_ptr<ObjectStore>(std::make_unique<LocalObjectStore>(std::move(absolute), options));
}

}  // namespace sluice::storage
