#include "storage/read_cache.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "storage/s3/sigv4.hpp"

namespace sluice::storage {

namespace fs = std::filesystem;

Result<fs::path> ReadThroughCache::Fetch(ObjectStore& store, const std::string& key) {
  if (auto local = store.LocalPath(key)) return *local;
  SLUICE_ASSIGN_OR_RETURN(auto info, store.Stat(key));
  fs::path relative(key);
  std::string version = s3::Sha256Hex(fmt::format("{}\n{}", info.etag, info.size)).substr(0, 16);
  fs::path path = dir_ / s3::Sha256Hex(store.Describe()).substr(0, 16) / relative.parent_path() /
                  (version + "-" + relative.filename().string());
  std::error_code ec;
  if (fs::exists(path, ec) && fs::file_size(path, ec) == info.size) {
    fs::last_write_time(path, fs::file_time_type::clock::now(), ec);  // recently used
  } else {
    SLUICE_TRY(store.GetToFile(key, path));
    std::lock_guard lock(mutex_);
    downloaded_bytes_ += info.size;
  }
  {
    std::lock_guard lock(mutex_);
    pinned_.insert(path);
  }
  Evict();
  return path;
}

void ReadThroughCache::Evict() {
  std::lock_guard lock(mutex_);
  struct Entry {
    fs::path path;
    fs::file_time_type used;
    uint64_t size;
  };
  std::vector<Entry> entries;
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir_, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    uint64_t size = it->file_size(ec);
    total += size;
    entries.push_back({it->path(), it->last_write_time(ec), size});
  }
  if (total <= max_bytes_) return;
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.used < b.used; });
  for (const auto& entry : entries) {
    if (total <= max_bytes_) break;
    if (pinned_.count(entry.path) != 0) continue;
    if (fs::remove(entry.path, ec)) total -= entry.size;
  }
}

}  // namespace sluice::storage
