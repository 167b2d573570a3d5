#include "pipeline/maintenance.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "common/fault_point.hpp"
#include "common/strings.hpp"
#include "connectors/sinks/lake/lake_sink.hpp"
#include "iceberg/publisher.hpp"
#include "pipeline/change_detection.hpp"
#include "pipeline/pipeline_lock.hpp"
#include "pipeline/resumable_load.hpp"
#include "pipeline/schema_evolution.hpp"
#include "storage/lake_layout.hpp"

namespace sluice::pipeline {
namespace {

/// A run marked running is in flight unless its pipeline's lock is free: then its process is gone.
bool RunIsInFlight(const catalog::RunRecord& run, const std::filesystem::path& lock_dir) {
  if (lock_dir.empty()) return true;
  auto lock = PipelineLock::TryAcquire(lock_dir, run.pipeline);
  return !lock.ok();  // held, or not checkable: keep its files to be safe
}

/// Change indexes no job's state names (older than `cutoff`): uploads of runs that died before
/// their commit, and indexes a commit replaced whose run died before deleting them. They live
/// outside every table's location, so the table listing never sees them.
Result<std::vector<storage::ObjectInfo>> StaleChangeIndexes(catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                                                            TimePoint cutoff) {
  const std::string prefix = kChangeIndexPrefix;
  SLUICE_ASSIGN_OR_RETURN(auto objects, lake.List(prefix));
  std::map<std::string, std::string> current;  // "pipeline/job" → the key its state names
  std::vector<storage::ObjectInfo> stale;
  for (const auto& object : objects) {
    if (object.modified >= cutoff || !EndsWith(object.key, ".parquet")) continue;
    std::string rest = object.key.substr(prefix.size());
    auto slash = rest.rfind('/');
    if (slash == std::string::npos) continue;
    std::string scope = rest.substr(0, slash);
    if (current.count(scope) == 0) {
      // Read after the listing: an index committed in between counts as current.
      SLUICE_ASSIGN_OR_RETURN(auto state, catalog.GetState(scope, "change_index"));
      std::string key;
      if (state) {
        auto ref = ChangeIndexRef::Parse(*state);
        if (!ref.ok()) return ref.status().WithContext("vacuum: the change index state of {}", scope);
        key = ref->key;
      }
      current[scope] = key;
    }
    if (current[scope] != object.key) stale.push_back(object);
  }
  return stale;
}

}  // namespace

Result<VacuumReport> Vacuum(catalog::MetadataStore& catalog, storage::ObjectStore& lake, const Clock& clock,
                            const VacuumOptions& options) {
  TimePoint cutoff = clock.Now() - options.retain;
  VacuumReport report;
  // A run in flight has uploaded files no version references yet and read files a concurrent
  // commit may have removed: nothing younger than its start goes. Runs that start later upload
  // only objects younger than the cutoff.
  SLUICE_ASSIGN_OR_RETURN(auto running, catalog.RunningRuns());
  for (const auto& run : running) {
    if (!RunIsInFlight(run, options.lock_dir)) continue;
    report.runs_in_flight.push_back(run.id.value);
    if (run.started_at < cutoff) cutoff = run.started_at;
    report.kept_since = cutoff;
  }
  // Chunks of interrupted full loads: only job state references them until the resumed load commits.
  std::set<std::string> pending_chunks;
  SLUICE_ASSIGN_OR_RETURN(auto pending_loads, catalog.StateWithKey(kPendingLoadKey));
  for (const auto& [scope, text] : pending_loads) {
    auto load = PendingLoad::Parse(text, scope);
    if (!load.ok()) return load.status().WithContext("vacuum: nothing was deleted");
    for (const auto& f : load->files) pending_chunks.insert(f.key);
  }
  std::set<std::string> chosen;
  auto choose = [&](const std::string& key, uint64_t bytes, const char* reason) {
    if (!chosen.insert(key).second) return;
    report.objects.push_back({key, bytes, reason});
    report.bytes += bytes;
  };

  SLUICE_ASSIGN_OR_RETURN(auto tables, catalog.ListTables());
  // A crawled table's folder belongs to whoever wrote it: its files are not ours to delete, even
  // once a compaction has replaced them in the table.
  std::vector<std::string> crawled_folders;
  for (const auto& table : tables) {
    if (StartsWith(table.source, kCrawledSourcePrefix)) crawled_folders.push_back(table.location + "/");
  }
  auto in_crawled_folder = [&](const std::string& key) {
    return std::any_of(crawled_folders.begin(), crawled_folders.end(),
                       [&](const std::string& folder) { return StartsWith(key, folder); });
  };

  // Files whose removal is older than the retain period; the catalog never references them again.
  SLUICE_ASSIGN_OR_RETURN(auto removed, catalog.PathsRemovedBefore(cutoff));
  for (const auto& key : removed) {
    if (in_crawled_folder(key)) continue;
    auto info = lake.Stat(key);
    if (!info.ok()) {
      if (info.status().code() == StatusCode::kNotFound) continue;  // an earlier vacuum took it
      return info.status().WithContext("vacuum: checking {}", key);
    }
    choose(key, info->size, "removed from its table");
  }

  // Objects under table locations that no version references: uploads of runs that never
  // committed. Only old ones: a run in flight may be about to commit a young one. The referenced
  // set is read after the listing, so a commit landing in between counts as referenced.
  std::vector<storage::ObjectInfo> listed;
  for (const auto& table : tables) {
    if (StartsWith(table.source, kCrawledSourcePrefix)) continue;
    SLUICE_ASSIGN_OR_RETURN(auto objects, lake.List(table.location + "/"));
    listed.insert(listed.end(), objects.begin(), objects.end());
  }
  SLUICE_ASSIGN_OR_RETURN(auto referenced_list, catalog.AllReferencedPaths());
  std::set<std::string> referenced(referenced_list.begin(), referenced_list.end());
  for (const auto& object : listed) {
    if (referenced.count(object.key) > 0 || object.modified >= cutoff) continue;
    if (!EndsWith(object.key, ".parquet")) continue;  // runs upload only Parquet files
    if (pending_chunks.count(object.key) > 0) {
      ++report.pending_chunks;
      continue;
    }
    choose(object.key, object.size, "never committed");
  }
  SLUICE_ASSIGN_OR_RETURN(auto stale_indexes, StaleChangeIndexes(catalog, lake, cutoff));
  for (const auto& object : stale_indexes) choose(object.key, object.size, "change index no job uses");

  if (options.dry_run || report.objects.empty()) return report;
  // Iceberg snapshots that reference the files about to go are expired first, so no metadata points at them.
  for (const auto& table : tables) {
    SLUICE_ASSIGN_OR_RETURN(int64_t expired, iceberg::ExpireSnapshots(catalog, lake, table, cutoff));
    report.snapshots_expired += expired;
  }
  SLUICE_FAULT_POINT("vacuum_deleting");
  std::vector<std::string> keys;
  for (const auto& o : report.objects) keys.push_back(o.key);
  Status deleted = lake.DeleteMany(keys);
  if (!deleted.ok()) return deleted.WithContext("vacuum of {}", lake.Describe());
  return report;
}

namespace {

/// The prefix a file was written under: its key without "/k=v/…" partition folders and name.
/// nullopt when the key does not end in its own partition values (a file placed by hand).
std::optional<std::string> DataPrefixOf(const catalog::DataFile& file) {
  auto slash = file.path.rfind('/');
  if (slash == std::string::npos) return std::nullopt;
  std::string folder = file.path.substr(0, slash);
  std::string partitions = storage::PartitionPath(file.partition_values);
  if (partitions.empty()) return folder;
  if (!EndsWith(folder, "/" + partitions)) return std::nullopt;
  return folder.substr(0, folder.size() - partitions.size() - 1);
}

}  // namespace

Result<CompactReport> Compact(catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                              engine::Connection& connection, const catalog::TableName& name,
                              const CompactOptions& options) {
  SLUICE_ASSIGN_OR_RETURN(auto table, catalog.GetTable(name));
  if (!table) return Status::NotFound("no table {} in the catalog; `sluice catalog list` shows them", name.ToString());
  SLUICE_ASSIGN_OR_RETURN(auto files, catalog.ListFiles(name));
  // Small files grouped by where they live: output keeps each group's prefix and partition.
  std::map<std::pair<std::string, std::string>, std::vector<catalog::DataFile>> groups;
  for (const auto& f : files) {
    if (static_cast<uint64_t>(f.bytes) >= options.target_file_bytes) continue;
    auto prefix = DataPrefixOf(f);
    if (!prefix) continue;
    groups[{*prefix, storage::PartitionPath(f.partition_values)}].push_back(f);
  }
  CompactReport report;
  catalog::TableChange change;
  change.table = name;
  change.operation = catalog::WriteOperation::kCompact;
  change.expected_version = table->current_version;
  change.location = table->location;
  change.source = table->source;
  change.partition_columns = table->partition_columns;
  change.schema = catalog::WithFieldIds(table->schema);
  std::vector<connectors::StagedFile> staged_all;
  int group_index = 0;
  for (const auto& [where, group] : groups) {
    if (group.size() < 2) continue;  // one small file is already as compact as it gets
    std::vector<std::string> paths;
    int64_t rows_in = 0;
    for (const auto& f : group) {
      auto local = lake.LocalPath(f.path);
      std::filesystem::path path;
      if (local) {
        path = *local;
      } else {
        path = options.scratch / "inputs" / f.path;
        SLUICE_TRY(lake.GetToFile(f.path, path).WithContext("compact {}: fetching {}", name.ToString(), f.path));
      }
      paths.push_back(SqlQuote(path.string()));
      rows_in += f.rows;
      report.bytes_before += static_cast<uint64_t>(f.bytes);
    }
    connectors::LakeWriteRequest write;
    write.select_sql = fmt::format("SELECT * FROM read_parquet([{}], hive_partitioning = false, union_by_name = true)",
                                   Join(paths, ", "));
    write.staging_dir = options.scratch / fmt::format("group-{:05d}", group_index);
    write.data_prefix = where.first;
    write.fixed_partitions = group.front().partition_values;
    write.target_file_bytes = options.target_file_bytes;
    write.file_prefix = fmt::format("compact-{}-{:05d}", options.run_id.value, group_index);
    write.field_ids = ParquetFieldIds(change.schema);
    ++group_index;
    SLUICE_ASSIGN_OR_RETURN(auto staged, connectors::WriteParquetToStaging(connection, write));
    int64_t rows_out = 0;
    for (const auto& s : staged) rows_out += s.rows;
    if (rows_out != rows_in) {
      return Status::Internal("compact {}: rewrote {} rows of partition '{}' as {}; nothing was committed",
                              name.ToString(), rows_in, where.second, rows_out);
    }
    for (const auto& f : group) change.removed_paths.push_back(f.path);
    for (const auto& s : staged) {
      change.added.push_back({s.key, s.rows, s.bytes, s.partition_values, 0, s.column_stats});
      report.bytes_after += static_cast<uint64_t>(s.bytes);
    }
    report.partitions += 1;
    report.files_before += static_cast<int64_t>(group.size());
    report.files_after += static_cast<int64_t>(staged.size());
    report.rows += rows_in;
    staged_all.insert(staged_all.end(), staged.begin(), staged.end());
  }
  if (change.removed_paths.empty()) return report;

  catalog::CommitRequest commit;
  commit.run_id = options.run_id;
  commit.pipeline = "maintain";
  commit.job = "compact";
  commit.tables.push_back(std::move(change));
  SLUICE_TRY(connectors::UploadStaged(lake, staged_all));
  SLUICE_FAULT_POINT("compact_uploaded");
  auto result = catalog.Commit(commit);
  if (!result.ok()) {
    connectors::DiscardUploaded(lake, staged_all);
    if (result.status().code() == StatusCode::kConflict) {
      return Status::Conflict(
          "{} changed while it was being compacted (it was at version {}); nothing was "
          "committed — run `sluice maintain compact {}` again",
          name.ToString(), table->current_version, name.ToString());
    }
    return result.status().WithContext("compact {}", name.ToString());
  }
  report.version = result->versions.empty() ? 0 : result->versions.front();
  return report;
}

}  // namespace sluice::pipeline
