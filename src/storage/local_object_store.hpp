#pragma once

#include <filesystem>
#include <memory>

#include "storage/object_store.hpp"

namespace sluice::storage {

/// Name prefix of a local store's in-progress writes; List() never reports such files and keys may
/// not use it.
inline constexpr std::string_view kLocalTempPrefix = "._tmp.";

struct LocalObjectStoreOptions {
  /// fsync each object and the folders naming it before Finish/Put returns, so an object a catalog
  /// commit references survives a power loss. Turn off only for scratch stores.
  bool sync = true;
};

/// The local-filesystem store rooted at a folder (created if missing). Writes go to a hidden temp
/// file in the same folder ("._tmp.<random>") and are renamed into place on Finish, so readers never
/// see half an object; List() never reports those temp files. Empty parent folders are removed on
/// Delete. ETag = "<size>-<mtime_ns>".
/// Unlike S3, a key cannot be both an object and a folder ("a" and "a/b"): such a Put is
/// Status::AlreadyExists naming both.
Result<std::unique_ptr<ObjectStore>> MakeLocalObjectStore(const std::filesystem::path& root,
                                                          const LocalObjectStoreOptions& options = {});

}  // namespace sluice::storage
