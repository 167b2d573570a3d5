#pragma once

#include <optional>
#include <string>
#include <vector>

#include "catalog/metadata_store.hpp"
#include "engine/engine.hpp"
#include "storage/object_store.hpp"

namespace sluice::pipeline {

/// SQL that reads exactly the files of one table version (hive partitions become columns).
Result<std::string> TableScanSql(catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                                 const catalog::TableInfo& table, std::optional<int64_t> as_of = std::nullopt);

/// SQL that reads the given files of `table` (e.g. those added since a bookmark); no files gives
/// an empty relation with the table's columns.
Result<std::string> FilesScanSql(storage::ObjectStore& lake, const catalog::TableInfo& table,
                                 const std::vector<catalog::DataFile>& files);

/// Creates a schema per zone and a view `zone.table` per catalog table over its committed files,
/// so SQL sees only what commits published. `as_of` pins every table to a version (time travel).
Status BindCatalogViews(engine::Connection& connection, catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                        std::optional<int64_t> as_of = std::nullopt);

}  // namespace sluice::pipeline
