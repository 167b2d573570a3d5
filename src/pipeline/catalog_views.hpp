#pragma once

#include <optional>
#include <string>
#include <vector>

#include "catalog/metadata_store.hpp"
#include "engine/engine.hpp"
#include "storage/object_store.hpp"
#include "storage/read_cache.hpp"

namespace sluice::pipeline {

/// SQL that reads exactly the files of one table version (hive partitions become columns).
Result<std::string> TableScanSql(catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                                 const catalog::TableInfo& table, std::optional<int64_t> as_of = std::nullopt,
                                 storage::ReadThroughCache* cache = nullptr);

/// SQL that reads the given files of `table` (e.g. those added since a bookmark); no files gives
/// an empty relation with the table's columns.
Result<std::string> FilesScanSql(storage::ObjectStore& lake, const catalog::TableInfo& table,
                                 const std::vector<catalog::DataFile>& files,
                                 storage::ReadThroughCache* cache = nullptr);

/// Creates a schema per zone and a view `zone.table` per catalog table over its committed files,
/// so SQL sees only what commits published. `as_of` pins every table to a version (time travel).
/// A remote lake (S3) is read through `cache` (local copies of the files each view needs); without one
/// its tables cannot be read.
Status BindCatalogViews(engine::Connection& connection, catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                        std::optional<int64_t> as_of = std::nullopt, storage::ReadThroughCache* cache = nullptr);

/// What a query would read, from the catalog alone (nothing is scanned).
struct ScanEstimate {
  uint64_t bytes = 0;
  int64_t files = 0, files_pruned = 0;
  std::vector<std::string> tables;  // zone.table names the SQL mentions
};

/// Adds up the files of every catalog table `sql` names as zone.table (at `as_of`), leaving out
/// partitions that a simple predicate on a partition column excludes (col = 'v', col = 5,
/// col IN (...)). Pruning is skipped when the SQL contains OR or NOT, so the figure is an upper
/// bound of the Parquet bytes the query reads.
Result<ScanEstimate> EstimateScan(catalog::MetadataStore& catalog, const std::string& sql,
                                  std::optional<int64_t> as_of = std::nullopt);

}  // namespace sluice::pipeline
