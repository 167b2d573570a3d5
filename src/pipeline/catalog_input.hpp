#pragma once

#include <string>
#include <vector>

#include "catalog/metadata_store.hpp"
#include "config/pipeline.hpp"
#include "engine/engine.hpp"
#include "storage/object_store.hpp"
#include "storage/read_cache.hpp"

namespace sluice::pipeline {

/// Whether the job reads catalog tables (`source: {table: zone.name}` or a list of them) rather
/// than a connector.
bool ReadsCatalogTables(const config::JobConfig& job);

/// One input table of a processing job: the files committed to it after the job's bookmark.
struct CatalogInputTable {
  catalog::TableInfo table;
  int64_t bookmark = 0;  // last version of the table this job processed; 0 = never
  std::vector<catalog::DataFile> new_files;
  size_t current_files = 0;  // files of the version read (new_files holds all of them on a first read)
};

/// The catalog-table input of a processing job. The bookmark of each input (the table version
/// the job processed last) is job state: it advances only in the commit that publishes the job's
/// output, so a failed run re-reads the same files. `full_refresh` reads whole current versions;
/// `whole_when_changed` (a job that rebuilds its table) reads them too, but only when some input
/// has new files.
class CatalogInput {
 public:
  static Result<CatalogInput> Open(catalog::MetadataStore& catalog, const config::JobConfig& job,
                                   const std::string& scope, bool full_refresh, bool whole_when_changed);

  bool NothingToRead() const;
  /// "raw.indicators: 2 new files, 1200 rows (versions 4-5)".
  std::string Summary() const;
  std::string Description() const;  // the tables' names, for TableInfo::source
  uint64_t PendingBytes() const;
  /// Whether every input is read whole (first run, --full-refresh, or after WidenToWholeTables).
  bool ReadsWholeTables() const;
  /// Reads every file of the version each input was opened at (not a newer one: the bookmarks
  /// advance to that version), e.g. to recompute whole partitions from all rows.
  Status WidenToWholeTables(catalog::MetadataStore& catalog);

  /// Makes every catalog table readable by name (its current version), then narrows the inputs
  /// to their new files, so `raw.indicators` in a step means this run's input; `relation` is a
  /// view over the first input.
  Status Bind(engine::Connection& connection, catalog::MetadataStore& catalog, storage::ObjectStore& lake,
              storage::ReadThroughCache* cache, const std::string& relation) const;

  /// State updates moving each bookmark to the version just read (same commit as the output).
  std::vector<catalog::StateUpdate> AdvancedBookmarks(const std::string& scope) const;

 private:
  std::vector<CatalogInputTable> inputs_;
};

}  // namespace sluice::pipeline
