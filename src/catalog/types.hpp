#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/status.hpp"

namespace sluice::catalog {

/// A table of the lake: `zone.name`, e.g. raw.birdstrikes.
struct TableName {
  std::string zone, name;
  /// Parses "raw.birdstrikes"; each part is letters, digits and '_'.
  static Result<TableName> Parse(std::string_view text);
  std::string ToString() const;
  auto operator<=>(const TableName&) const = default;
};

struct Column {
  std::string name;
  std::string type;  // DuckDB type name: BIGINT, VARCHAR, DECIMAL(18,2), ...
  bool nullable = true;
  /// The column's id in the table's life (Parquet field id, Iceberg field id): kept while the column exists,
  /// never given to another column. 0 = not assigned yet (a schema from a query, or a catalog before ids).
  int64_t field_id = 0;
  /// Ids of the column's nested fields (struct fields, list elements, map keys and values), depth first in the
  /// order of engine::TypeTree; empty for a primitive column. Given with field_id, renewed when the type changes.
  std::vector<int64_t> nested_field_ids;
  /// Ids are bookkeeping: two schemas with the same names, types and nullability are equal.
  bool operator==(const Column& other) const {
    return name == other.name && type == other.type && nullable == other.nullable;
  }
};

struct Schema {
  std::vector<Column> columns;
  /// {"columns":[{"name":"a","type":"BIGINT","nullable":true}, ...]}
  std::string ToJson() const;
  static Result<Schema> FromJson(std::string_view json);
  const Column* Find(std::string_view name) const;
  bool operator==(const Schema&) const = default;
};

/// Human summary of what changed: "added column x (BIGINT); type of y INTEGER -> BIGINT; removed column z";
/// "" if equal.
std::string DescribeSchemaChange(const Schema& before, const Schema& after);

/// Gives every column of `next` a field id: the id of the column of the same name in `previous` (the table's
/// schema before this change), or a new one after `*last_column_id`, which advances. A column dropped and added
/// again gets a new id. Columns of a `previous` stored before ids existed count as numbered by position.
/// Nested fields get ids too: kept while the column keeps its type, new ones when the type changes.
void AssignFieldIds(const Schema& previous, int64_t* last_column_id, Schema* next);

/// `schema` with the positional ids of a schema stored before ids existed filled in.
Schema WithFieldIds(Schema schema);

struct DataFile {
  std::string path;  // object key relative to the lake root
  int64_t rows = 0, bytes = 0;
  std::vector<std::pair<std::string, std::string>> partition_values;  // e.g. {{"_load_date","2026-11-23"}}
  int64_t version_added = 0;                                          // filled by the store
  /// Per-column statistics of the file as the writer measured them, opaque JSON
  /// ({"column":{"values":N,"nulls":N,"min":"..","max":".."}}); "" = not measured (older files).
  std::string column_stats;
};

struct TableInfo {
  int64_t id = 0;
  TableName name;
  std::string location;  // key prefix of the table in the lake, e.g. "raw/files/birds"
  std::string source;    // free text: connector/connection that feeds it
  std::vector<std::string> partition_columns;
  Schema schema;
  int64_t current_version = 0;  // 0 = created, nothing committed
  TimePoint created_at, updated_at;
  int64_t row_count = 0, file_count = 0, total_bytes = 0;  // of the current version
  int64_t last_column_id = 0;  // highest field id ever given to a column of the table (see AssignFieldIds)
};

enum class WriteOperation { kAppend, kOverwrite, kDelete, kCompact };
/// "append", "overwrite", "delete", "compact".
const char* WriteOperationName(WriteOperation operation);
Result<WriteOperation> ParseWriteOperation(std::string_view text);

/// One table's part of a commit. Which current files the new version stops referencing:
///  - every current file when `remove_all_current`;
///  - else, when `remove_partition` is set, the current files whose partition values include all of its pairs;
///  - else, for kOverwrite, the current files whose partition_values equal those of some added file
///    (partition overwrite);
///  - plus, always, `removed_paths`.
/// kAppend removes nothing.
struct TableChange {
  TableName table;
  WriteOperation operation = WriteOperation::kAppend;
  std::optional<int64_t> expected_version;     // optimistic check; nullopt = no check (appends commute)
  std::string location, source;                // used when the table is created
  std::vector<std::string> partition_columns;  // used when the table is created
  /// The table's schema after this change (a new schema version when it differs); no columns = unchanged.
  Schema schema;
  std::vector<DataFile> added;
  std::vector<std::string> removed_paths;  // files this version stops referencing
  bool remove_all_current = false;         // overwrite: the new version references only `added`
  std::vector<std::pair<std::string, std::string>> remove_partition;  // drop current files of this partition
};

/// Job state to set (or delete, when `value` is nullopt) in the same transaction as the data.
struct StateUpdate {
  std::string scope;
  std::string key;
  std::optional<std::string> value;
};

/// An input file a job has consumed; lets the next run skip it.
struct LoadedFile {
  std::string scope;
  std::string path;
  int64_t size = 0;
  int64_t mtime_us = 0;
  std::string content_hash;
};

struct CommitRequest {
  RunId run_id;
  std::string pipeline, job;
  std::vector<TableChange> tables;  // all in one transaction; tables are created on first commit
  std::vector<StateUpdate> state;
  std::vector<LoadedFile> loaded_files;           // upserted by (scope, path)
  std::vector<std::string> forget_loaded_scopes;  // --full-refresh: clear these scopes first, same transaction
};

struct CommitResult {
  std::vector<int64_t> versions;  // new version per entry of `tables`
};

struct TableVersion {
  int64_t version = 0;
  TimePoint committed_at;
  RunId run_id;
  std::string pipeline, job, operation;
  int64_t files_added = 0, files_removed = 0, rows_added = 0, rows_removed = 0;
  Schema schema;              // in effect from this version on
  std::string schema_change;  // DescribeSchemaChange vs the previous version ("" if none)
};

/// A window job kept in the catalog (`sluice jobs`), keyed by pipeline and job. For a job of the pipeline
/// file it overrides that job's window step and partitioning (empty / unset fields: as the file says); a job
/// added with `sluice jobs add` exists only here and has its source and target table set. The window the
/// next run reads is not kept here: it is the job's state, which moves only with the commit of its data.
struct WindowJob {
  std::string pipeline, job;
  std::string source_table, target_table;  // schema.table and the lake table name; only for catalog-only jobs
  std::string column;                      // window column; required for catalog-only jobs
  std::string first_start, first_stop;     // the first window, until the job has a stored one
  std::string step;
  std::string partition_by;
  std::optional<int64_t> lower_bound, upper_bound, num_partitions;
  TimePoint created_at, updated_at;  // filled by the store
  bool catalog_only() const { return !source_table.empty(); }
};

enum class RunStatus { kQueued, kRunning, kSucceeded, kNoChanges, kFailed, kInterrupted, kCancelled, kSkipped };
/// "queued", "running", "succeeded", "no_changes", "failed", "interrupted", "cancelled", "skipped".
const char* RunStatusName(RunStatus status);
Result<RunStatus> ParseRunStatus(std::string_view text);

struct RunRecord {
  RunId id;
  std::string pipeline, job /* "" = whole pipeline */, env, trigger;
  RunStatus status = RunStatus::kRunning;
  TimePoint started_at;
  std::optional<TimePoint> finished_at;
  int64_t rows_read = 0, rows_written = 0, rows_rejected = 0, bytes_written = 0, files_written = 0;
  std::string error;                // already redacted by the caller
  std::string details_json = "{}";  // per-job stats, check results, windows...
};

/// Totals over the recorded runs of one pipeline with one status (for /metrics).
struct RunTotals {
  std::string pipeline;
  RunStatus status = RunStatus::kSucceeded;
  int64_t runs = 0, rows_written = 0, bytes_written = 0;
  int64_t finished_runs = 0;
  double duration_seconds = 0;  // summed over finished runs
};

/// A run waiting in `sluice serve`'s queue (docs/triggers.md). Its id becomes the run's id.
enum class QueueState { kQueued, kClaimed, kDone };
/// "queued", "claimed", "done".
const char* QueueStateName(QueueState state);

struct QueuedRun {
  RunId id;
  std::string pipeline;
  std::string trigger;    // schedule | file_arrival | on_success | on_failure | api | retry
  std::string dedup_key;  // one trigger event makes one run of a pipeline: a second entry of the pipeline with
                          // this key is refused; "" = none
  std::string detail;     // what caused it, for people (e.g. the files that arrived)
  TimePoint enqueued_at;
  TimePoint not_before;  // a retry waits out its backoff
  int64_t attempt = 1;
  QueueState state = QueueState::kQueued;
  bool full_refresh = false;  // as `sluice run --full-refresh`
  std::string only_job;       // as `sluice run --job J`; "" = every job
};

struct EnqueueResult {
  RunId id;  // the new entry, or the one that already had the dedup key
  bool created = false;
};

/// What a trigger remembers between polls and across restarts (files seen, last fire time), opaque here.
struct TriggerState {
  std::string pipeline;
  std::string trigger_key;
  std::string state;
};

}  // namespace sluice::catalog
