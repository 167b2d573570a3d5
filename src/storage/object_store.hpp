#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/status.hpp"
#include "storage/s3/s3_options.hpp"

// The lake is reached only through this interface. It is shaped like an object store (no rename,
// no append, whole objects appear atomically) so the local filesystem and S3 behave the same;
// atomicity of a table change comes from catalog commits, not from storage tricks.
namespace sluice::storage {

/// Longest key accepted (S3's limit, enforced everywhere so a local lake can move to S3).
inline constexpr size_t kMaxKeyBytes = 1024;

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  TimePoint modified;
  std::string etag;  // changes when the object is replaced; compare only within one store
};

/// Streaming read of one object (or one byte range of it).
class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  /// Copies up to `size` bytes into `buffer`; 0 = end of the object or range.
  virtual Result<size_t> Read(char* buffer, size_t size) = 0;
};

/// Streaming write; nothing is visible under the key until Finish() succeeds.
/// Destroying an unfinished writer aborts it.
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  virtual Status Write(std::string_view data) = 0;
  /// Makes the object visible, replacing any previous one. After a failed Finish the writer is aborted.
  virtual Status Finish() = 0;
  /// Discards what was written; safe to call more than once and after Finish (then it does nothing).
  virtual void Abort() = 0;
};

/// Thread-safe: one store may be used from many threads at once.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  /// "file:///abs/lake" or "s3://bucket/prefix"
  virtual std::string Describe() const = 0;

  /// Keys are '/'-separated, relative to the store root, never starting with '/', never containing
  /// '..' segments (validated: Status::Invalid naming the key).
  virtual Status Put(const std::string& key, std::string_view data) = 0;
  /// Uploads a local file. If `consume` is true the store may take the file over (the local store
  /// renames it when on the same filesystem, falling back to copy) — the caller will not use the
  /// local file afterwards. After a successful consuming PutFile the local file is gone.
  virtual Status PutFile(const std::string& key, const std::filesystem::path& local, bool consume) = 0;
  virtual Result<std::string> Get(const std::string& key) = 0;
  /// Writes the object to `local` (parent folders created, an existing file replaced atomically).
  virtual Status GetToFile(const std::string& key, const std::filesystem::path& local) = 0;
  /// Reads from `offset`, at most `length` bytes (a range past the end is cut at the end; an
  /// offset past the end is Status::Invalid).
  virtual Result<std::unique_ptr<ObjectReader>> OpenRead(const std::string& key, uint64_t offset = 0,
                                                         std::optional<uint64_t> length = std::nullopt) = 0;
  virtual Result<std::unique_ptr<ObjectWriter>> OpenWrite(const std::string& key) = 0;
  /// Every object whose key starts with `prefix` (recursive, a plain string prefix: "raw/reg"
  /// matches "raw/registry/..."), sorted by key bytes. Missing prefix = empty list.
  virtual Result<std::vector<ObjectInfo>> List(const std::string& prefix) = 0;
  /// Status::NotFound if missing.
  virtual Result<ObjectInfo> Stat(const std::string& key) = 0;
  /// Missing is OK.
  virtual Status Delete(const std::string& key) = 0;
  /// Deletes what it can; the error (if any) counts the failures and shows the first.
  virtual Status DeleteMany(const std::vector<std::string>& keys) = 0;
  /// For stores whose objects are plain local files: the path a local reader (DuckDB) can open
  /// directly (existence not checked). nullopt for remote stores and invalid keys.
  virtual std::optional<std::filesystem::path> LocalPath(const std::string& key) const = 0;
};

/// The key rules every store enforces: non-empty, at most kMaxKeyBytes, no leading '/', no
/// trailing '/', no empty, "." or ".." segments, no NUL, no segment starting with "._tmp."
/// (reserved for in-progress writes). Status::Invalid naming the key and the rule otherwise.
Status ValidateObjectKey(std::string_view key);
/// Like ValidateObjectKey, but "" (everything) and a trailing '/' are allowed.
Status ValidateObjectPrefix(std::string_view prefix);

/// "s3://bucket/prefix" → the S3 store (`s3` completed from the AWS environment variables and shared
/// credentials file, see s3::CompleteS3Options); otherwise a local path (or a file:// URI) → the local
/// store rooted there.
Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const std::string& uri, const s3::S3Options& s3,
                                                     const s3::EnvLookup& getenv);
/// As above with default S3 settings and the process environment.
Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const std::string& uri);

}  // namespace sluice::storage
