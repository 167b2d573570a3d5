#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "catalog/metadata_store.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/status.hpp"
#include "storage/object_store.hpp"

namespace sluice::pipeline {

/// Start of the `source` of tables registered by `sluice catalog crawl`.
inline constexpr const char* kCrawledSourcePrefix = "crawled from ";

struct VacuumOptions {
  /// Files removed from tables more recently than this stay (time travel to those versions keeps
  /// working), and so do unreferenced objects younger than this.
  std::chrono::microseconds retain = std::chrono::hours(24 * 7);
  bool dry_run = false;
  /// <project>/.sluice/locks. A run the catalog marks running whose pipeline lock is free there has
  /// died; with no folder given, every run marked running counts as in flight.
  std::filesystem::path lock_dir;
};

struct VacuumedObject {
  std::string key;
  uint64_t bytes = 0;
  std::string reason;  // "removed from its table" | "never committed" | "change index no job uses"
};

struct VacuumReport {
  std::vector<VacuumedObject> objects;  // deleted, or that would be deleted on a dry run
  uint64_t bytes = 0;
  std::vector<std::string> runs_in_flight;  // whose uploads and inputs were kept whatever their age
  std::optional<TimePoint> kept_since;      // when runs are in flight: nothing this young was deleted
  int64_t pending_chunks = 0;               // objects kept because a job's pending load references them
  int64_t snapshots_expired = 0;            // Iceberg snapshots dropped because their files go
};

/// Deletes lake objects no current table version references: files that commits removed before
/// now - retain, and objects under a table's location that no version ever referenced (left by
/// runs that died between upload and commit) and are older than the retain period. Never what a
/// run in flight may read or commit (nothing younger than its start), nor the chunks of an
/// interrupted full load that a job's state keeps for its resumption. Uses only List/Stat/Delete,
/// so it works on any ObjectStore.
Result<VacuumReport> Vacuum(catalog::MetadataStore& catalog, storage::ObjectStore& lake, const Clock& clock,
                            const VacuumOptions& options);

}  // namespace sluice::pipeline

#include <filesystem>

#include "engine/engine.hpp"

namespace sluice::pipeline {

struct CompactOptions {
  uint64_t target_file_bytes = 128ull << 20;
  std::filesystem::path scratch;  // private local folder for inputs fetched from a remote lake and staged output
  RunId run_id;                   // recorded with the commit
};

struct CompactReport {
  int64_t version = 0;  // the new table version; 0 when there was nothing to compact
  int64_t partitions = 0, files_before = 0, files_after = 0, rows = 0;
  uint64_t bytes_before = 0, bytes_after = 0;
};

/// Rewrites the table's small files (smaller than the target size), partition by partition, into
/// files of about the target size, and commits them in one kCompact version that removes the
/// old ones — only if the table is still at the version it read (else Status::Conflict). The old
/// files stay in the lake for time travel until vacuum.
Result<CompactReport> Compact(catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                              engine::Connection& connection, const catalog::TableName& table,
                              const CompactOptions& options);

}  // namespace sluice::pipeline
