#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "storage/object_store.hpp"

namespace sluice::connectors {

/// Glob over local files: '*' and '?' within one path segment, '**' across segments.
/// `pattern` is absolute or relative to `base`. Results are absolute and sorted.
Result<std::vector<std::filesystem::path>> ExpandGlob(const std::filesystem::path& base, const std::string& pattern);

/// The glob rule ExpandGlob applies to the part of a path after its wildcard-free folder: `relative`
/// matches `pattern` itself or once its .gz/.zip suffix is dropped; '**' anywhere lets '*' cross '/'.
bool GlobMatches(const std::string& pattern, const std::string& relative);

/// Objects of `store` whose keys match `key_pattern` (GlobMatches over whole keys; a pattern without
/// wildcards names one key). Lists only the key prefix before the first wildcard. Hidden names
/// (".x") and folder markers ("x/") are left out, and so are keys no store can fetch or name
/// locally ("a/../b", "a//b": storage::ValidateObjectKey), with a warning. Sorted by key.
Result<std::vector<storage::ObjectInfo>> ExpandObjectGlob(storage::ObjectStore& store, const std::string& key_pattern);

}  // namespace sluice::connectors
