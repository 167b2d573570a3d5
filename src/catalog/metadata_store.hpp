#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "catalog/table_format.hpp"
#include "catalog/types.hpp"
#include "common/clock.hpp"
#include "common/status.hpp"

namespace sluice::catalog {

// The metadata store by role. Code that needs one role takes that interface; MetadataStore is all of them
// (one transaction can span roles: a commit advances job state, an enqueue saves a trigger's state), and a
// second store (PostgreSQL) implements the same four.

/// Tables, their versions and files. A table's data is exactly the set of files its current version
/// references; Commit() makes new files visible and advances job state in one transaction.
class TableCatalog {
 public:
  virtual ~TableCatalog() = default;

  virtual Result<std::optional<TableInfo>> GetTable(const TableName& name) = 0;
  /// Ordered by zone, then name.
  virtual Result<std::vector<TableInfo>> ListTables() = 0;
  /// Files of the current version, or of version `as_of` (files added at or before it and not removed by then).
  /// NotFound for an unknown table.
  virtual Result<std::vector<DataFile>> ListFiles(const TableName& name,
                                                  std::optional<int64_t> as_of = std::nullopt) = 0;
  /// Oldest first. NotFound for an unknown table.
  virtual Result<std::vector<TableVersion>> History(const TableName& name) = 0;
  /// Latest version committed at or before `t` (nullopt if none). NotFound for an unknown table.
  virtual Result<std::optional<int64_t>> VersionAt(const TableName& name, TimePoint t) = 0;

  /// All or nothing. Conflict (retryable) when an expected_version does not match.
  virtual Result<CommitResult> Commit(const CommitRequest& request) = 0;

  /// Every path referenced by any version of any table (vacuum keeps these).
  virtual Result<std::vector<std::string>> AllReferencedPaths() = 0;
  /// Paths no longer referenced by the current version of any table, removed in a version committed before
  /// `before` (vacuum candidates once time travel to those versions is no longer wanted).
  virtual Result<std::vector<std::string>> PathsRemovedBefore(TimePoint before) = 0;

  // An open table format kept beside the catalog (docs/iceberg.md).
  /// Every later commit has `publisher` write the metadata of each version it makes, in its transaction;
  /// nullptr = none.
  virtual void SetTableFormatPublisher(std::shared_ptr<TableFormatPublisher> publisher) = 0;
  /// Ordered by zone, then table.
  virtual Result<std::vector<TableFormatPointer>> ListTableFormatPointers() = 0;
  virtual Result<std::optional<TableFormatPointer>> GetTableFormatPointer(const TableName& table) = 0;
  /// Compare-and-set: points `table` at `metadata_location` only if its pointer is still `expected`
  /// (nullopt: it has none); Conflict (retryable) otherwise.
  virtual Status SetTableFormatPointer(const TableName& table, const std::optional<std::string>& expected,
                                       const std::string& metadata_location) = 0;
};

/// Jobs' state between runs: bookmarks (scope/key values, advanced by commits), the files each job loaded,
/// and the window jobs of `mode: window`.
class JobStateStore {
 public:
  virtual ~JobStateStore() = default;

  virtual Result<std::optional<std::string>> GetState(const std::string& scope, const std::string& key) = 0;
  /// Ordered by key.
  virtual Result<std::vector<std::pair<std::string, std::string>>> ListState(const std::string& scope) = 0;
  /// (scope, value) of every scope that has `key`, ordered by scope: e.g. every job's pending load.
  virtual Result<std::vector<std::pair<std::string, std::string>>> StateWithKey(const std::string& key) = 0;
  /// Ordered by path.
  virtual Result<std::vector<LoadedFile>> LoadedFiles(const std::string& scope) = 0;

  /// Creates or replaces the window job (pipeline, job) and applies `state` in the same transaction.
  virtual Status PutWindowJob(const WindowJob& job, const std::vector<StateUpdate>& state) = 0;
  /// Ordered by pipeline, then job; every pipeline's when `pipeline` is "".
  virtual Result<std::vector<WindowJob>> ListWindowJobs(const std::string& pipeline = "") = 0;
  /// Removes the window job (pipeline, job) and applies `state` in the same transaction; NotFound
  /// (and nothing changed) when there is no such job.
  virtual Status RemoveWindowJob(const std::string& pipeline, const std::string& job,
                                 const std::vector<StateUpdate>& state) = 0;
};

/// The record of every run: what ran, how it ended, its counts and details.
class RunLog {
 public:
  virtual ~RunLog() = default;

  /// AlreadyExists if a run with this id is recorded.
  virtual Status InsertRun(const RunRecord& run) = 0;
  /// Replaces the record with the same id; NotFound if there is none.
  virtual Status UpdateRun(const RunRecord& run) = 0;
  /// Newest first; `limit` <= 0 means all.
  virtual Result<std::vector<RunRecord>> ListRuns(int limit, const std::string& pipeline_filter = "") = 0;
  /// Runs recorded as running (a run that died stays so until its pipeline runs again), oldest first.
  virtual Result<std::vector<RunRecord>> RunningRuns() = 0;
  /// Also accepts a unique prefix of the id; an ambiguous prefix is an error.
  virtual Result<std::optional<RunRecord>> GetRun(const std::string& id_or_prefix) = 0;
  /// Run counts and sums per pipeline and status, computed in the store (runs are never all loaded).
  virtual Result<std::vector<RunTotals>> SummarizeRuns() = 0;
};

/// The run queue of `sluice serve`: triggers add runs, the daemon's workers claim them.
class RunQueue {
 public:
  virtual ~RunQueue() = default;

  /// Queues `run` unless an entry of the same pipeline (queued, running or done) already has its non-empty
  /// dedup_key (keys are per pipeline: one event may start several pipelines): then
  /// returns that entry's id with created = false. `trigger_state`, when given, is saved in the same
  /// transaction, so a trigger's memory of what it fired advances exactly with the queue.
  virtual Result<EnqueueResult> EnqueueRun(const QueuedRun& run, const std::optional<TriggerState>& trigger_state) = 0;
  virtual Status SaveTriggerState(const TriggerState& state) = 0;
  virtual Result<std::optional<std::string>> GetTriggerState(const std::string& pipeline,
                                                             const std::string& trigger_key) = 0;
  /// Marks the oldest queued entry due at `now` whose pipeline is not in `busy_pipelines` as claimed and returns
  /// it; none when nothing can start. Safe against another process claiming at the same time.
  virtual Result<std::optional<QueuedRun>> ClaimQueuedRun(TimePoint now,
                                                          const std::vector<std::string>& busy_pipelines) = 0;
  /// The entry's run has ended (or it was dropped): it leaves the queue but keeps blocking its dedup key.
  virtual Status FinishQueuedRun(const RunId& id) = 0;
  /// If queue entry `cancelled.id` is still queued (not claimed by a worker), marks it done and records
  /// `cancelled`, the run that never started, in the same transaction; false (nothing changed) when it is
  /// not queued any more.
  virtual Result<bool> CancelQueuedRun(const RunRecord& cancelled) = 0;
  /// Queued and claimed entries, oldest first.
  virtual Result<std::vector<QueuedRun>> PendingQueue() = 0;
  virtual Result<std::optional<QueuedRun>> GetQueuedRun(const std::string& id) = 0;
  /// Forgets done entries enqueued before `before`; returns how many.
  virtual Result<int64_t> PruneQueue(TimePoint before) = 0;
};

/// The source of truth of the lake: every role above in one store. Implementations are safe to share between
/// threads and between processes using the same catalog.
class MetadataStore : public TableCatalog, public JobStateStore, public RunLog, public RunQueue {
 public:
  ~MetadataStore() override = default;

  /// "sqlite:/abs/path/catalog.db" (never a password).
  virtual std::string Describe() const = 0;
};

/// `location` is a filesystem path of a SQLite file (parent folders created; an optional "sqlite:" prefix is
/// accepted). A "postgresql://" URL returns Status::Invalid: that store is not built yet.
Result<std::unique_ptr<MetadataStore>> OpenMetadataStore(const std::string& location,
                                                         std::shared_ptr<const Clock> clock);

}  // namespace sluice::catalog
