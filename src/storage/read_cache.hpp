#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>

#include "common/status.hpp"
#include "storage/object_store.hpp"

namespace sluice::storage {

/// Local copies of remote objects for readers that need files (DuckDB here has no httpfs). A copy is
/// keyed by the object's key, ETag and size, so a replaced object is fetched again; the folder is kept
/// under `max_bytes` by evicting the least recently used copies (never those handed out by this
/// instance). Safe across processes sharing the folder: copies appear by atomic rename.
class ReadThroughCache {
 public:
  ReadThroughCache(std::filesystem::path dir, uint64_t max_bytes) : dir_(std::move(dir)), max_bytes_(max_bytes) {}

  /// A local path holding the current bytes of `key`: the store's own path for local stores, else a
  /// cached copy (downloaded when missing or stale). The path keeps the key's folders (hive partitions).
  Result<std::filesystem::path> Fetch(ObjectStore& store, const std::string& key);

  const std::filesystem::path& dir() const { return dir_; }
  uint64_t downloaded_bytes() const { return downloaded_bytes_; }

 private:
  void Evict();

  std::filesystem::path dir_;
  uint64_t max_bytes_;
  std::mutex mutex_;
  std::set<std::filesystem::path> pinned_;
  uint64_t downloaded_bytes_ = 0;
};

}  // namespace sluice::storage
