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

/// Whether a scan adds `_source_file` (each row's lake file) to a table whose rows carry none.
enum class SourceFileColumn { kAsStored, kAddWhenMissing };

/// SQL that reads the given files of `table` (e.g. those added since a bookmark); no files gives
/// an empty relation with the table's columns. With kAddWhenMissing, a table without a
/// `_source_file` column (a database or CDC source) gets one holding the lake key of the file each
/// row was read from, so processing jobs keep lineage for every kind of source.
Result<std::string> FilesScanSql(storage::ObjectStore& lake, const catalog::TableInfo& table,
                                 const std::vector<catalog::DataFile>& files,
                                 storage::ReadThroughCache* cache = nullptr,
                                 SourceFileColumn source_file = SourceFileColumn::kAsStored);

/// Creates a schema per zone and a view `zone.table` per catalog table over its committed files,
/// so SQL sees only what commits published. `as_of` pins every table to a version (time travel).
/// A remote lake (S3) is read through `cache` (local copies of the files each view needs); without one
/// its tables cannot be read.
Status BindCatalogViews(engine::Connection& connection, catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                        std::optional<int64_t> as_of = std::nullopt, storage::ReadThroughCache* cache = nullptr);

/// The files of one catalog table a query needs: all of them, less the partitions its filters exclude.
struct TableScan {
  catalog::TableInfo table;
  std::vector<catalog::DataFile> files;
  int64_t files_pruned = 0;
};

/// What a query reads, from the catalog alone (nothing is scanned or fetched).
struct ScanPlan {
  /// False when DuckDB could not parse `sql` as SELECT statements (DESCRIBE, SHOW, PRAGMA…): then
  /// `tables` holds the tables named in the text (found by pattern), unpruned.
  bool parsed = false;
  std::vector<TableScan> tables;  // each catalog table the SQL names as zone.table
};

/// Plans which files of which tables `sql` reads (at `as_of`). The SQL is parsed by DuckDB
/// (json_serialize_sql); a table's partitions are pruned only when every place that reads it is a
/// SELECT whose FROM is that table (or inner joins of tables) and whose WHERE, as a whole AND of
/// conditions, restricts a partition column to constants: col = v, v = col, col IN (v, …). Values
/// compare as text, or as numbers when both sides are numbers, so the plan never leaves out a file
/// the query could need.
Result<ScanPlan> PlanScan(engine::Connection& connection, catalog::MetadataStore& catalog, const std::string& sql,
                          std::optional<int64_t> as_of = std::nullopt);

/// Views for one query: each table the query names reads exactly its planned (pruned) files, so a
/// remote lake fetches only those into `cache`; tables it does not name get views only when their
/// files are local (reading them costs nothing). Unparsed SQL (see ScanPlan) gets every view over
/// all files, as BindCatalogViews gives.
Status BindQueryViews(engine::Connection& connection, catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                      const ScanPlan& plan, std::optional<int64_t> as_of = std::nullopt,
                      storage::ReadThroughCache* cache = nullptr);

/// What a query would read, from the catalog alone (nothing is scanned).
struct ScanEstimate {
  uint64_t bytes = 0;
  int64_t files = 0, files_pruned = 0;
  std::vector<std::string> tables;  // zone.table names the SQL mentions
};

/// The totals of a plan: an upper bound of the Parquet bytes the query reads.
ScanEstimate EstimateScan(const ScanPlan& plan);

}  // namespace sluice::pipeline
