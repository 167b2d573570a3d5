#pragma once

#include <optional>
#include <string>

#include "catalog/metadata_store.hpp"
#include "engine/engine.hpp"
#include "storage/object_store.hpp"
#include "storage/read_cache.hpp"

namespace sluice::pipeline {

/// SQL that reads exactly the files of one table version (hive partitions become columns).
Result<std::string> TableScanSql(catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                                 const catalog::TableInfo& table, std::optional<int64_t> as_of = std::nullopt,
                                 storage::ReadThroughCache* cache = nullptr);

/// Creates a schema per zone and a view `zone.table` per catalog table over its committed files,
/// so SQL sees only what commits published. `as_of` pins every table to a version (time travel).
/// A remote lake (S3) is read through `cache` (local copies of the files each view needs); without one
/// its tables cannot be read.
Status BindCatalogViews(engine::Connection& connection, catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                        std::optional<int64_t> as_of = std::nullopt, storage::ReadThroughCache* cache = nullptr);

}  // namespace sluice::pipeline
