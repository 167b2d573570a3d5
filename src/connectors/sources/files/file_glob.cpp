#include "connectors/sources/files/file_glob.hpp"

#include <fnmatch.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/strings.hpp"

namespace sluice::connectors {
namespace fs = std::filesystem;
namespace {

/// "a.csv.gz" -> "a.csv": a pattern written for the plain name also matches compressed copies.
std::string WithoutCompressionSuffix(const std::string& name) {
  for (std::string_view suffix : {".gz", ".zip"}) {
    if (EndsWith(ToLower(name), suffix)) return name.substr(0, name.size() - suffix.size());
  }
  return name;
}

bool HasWildcard(std::string_view segment) { return segment.find_first_of("*?[") != std::string_view::npos; }

}  // namespace

Result<std::vector<fs::path>> ExpandGlob(const fs::path& base, const std::string& pattern) {
  fs::path full = fs::path(pattern).is_absolute() ? fs::path(pattern) : base / pattern;
  full = full.lexically_normal();
  // Walk from the deepest folder without wildcards; match the rest against relative paths.
  fs::path start;
  for (const auto& part : full) {
    if (HasWildcard(part.string())) break;
    start /= part;
  }
  std::vector<fs::path> out;
  std::error_code ec;
  if (start == full) {
    if (fs::is_regular_file(full, ec)) out.push_back(full);
    return out;
  }
  if (!fs::is_directory(start, ec)) return out;
  std::string rest = full.lexically_relative(start).generic_string();
  for (auto it = fs::recursive_directory_iterator(start, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Status::IoError("cannot list '{}': {}", start.string(), ec.message());
    if (!it->is_regular_file(ec)) continue;
    auto name = it->path().filename().string();
    if (StartsWith(name, ".")) continue;  // hidden and half-written temp files
    if (GlobMatches(rest, it->path().lexically_relative(start).generic_string())) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool GlobMatches(const std::string& pattern, const std::string& relative) {
  int flags = pattern.find("**") != std::string::npos ? 0 : FNM_PATHNAME;
  return fnmatch(pattern.c_str(), relative.c_str(), flags) == 0 ||
         fnmatch(pattern.c_str(), WithoutCompressionSuffix(relative).c_str(), flags) == 0;
}

Result<std::vector<storage::ObjectInfo>> ExpandObjectGlob(storage::ObjectStore& store, const std::string& key_pattern) {
  size_t wildcard = key_pattern.find_first_of("*?[");
  std::string prefix = key_pattern.substr(0, wildcard);
  SLUICE_ASSIGN_OR_RETURN(auto objects, store.List(prefix));
  std::vector<storage::ObjectInfo> out;
  for (auto& object : objects) {
    std::string_view name = object.key;
    if (name.empty() || name.back() == '/') continue;  // "folder" markers of S3 consoles
    if (StartsWith(name.substr(name.rfind('/') + 1), ".")) continue;
    bool match = wildcard == std::string::npos ? object.key == key_pattern : GlobMatches(key_pattern, object.key);
    if (!match) continue;
    // A key such as "in/../x.csv" cannot be fetched as named (HTTP clients fold the "..") nor
    // stored under the run's folder; failing on it would fail every run from now on.
    if (Status valid = storage::ValidateObjectKey(object.key); !valid.ok()) {
      spdlog::warn("files source: skipping object '{}' matching '{}': {}. Rename or move the object to load it",
                   object.key, key_pattern, valid.message());
      continue;
    }
    out.push_back(std::move(object));
  }
  return out;
}

}  // namespace sluice::connectors
