#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>

#include "catalog/metadata_store.hpp"

namespace sluice::catalog {

namespace sqlite {
class Connection;
}

struct SqliteStoreOptions {
  /// How long a writer waits for another process's transaction before giving up (Status::Unavailable).
  std::chrono::milliseconds busy_timeout{30'000};
};

/// MetadataStore in one SQLite file (WAL mode). Several processes may share the file: writes take the lock
/// with BEGIN IMMEDIATE and wait up to the busy timeout; readers never block. One instance serialises its
/// own calls, so it may be shared between threads.
class SqliteMetadataStore final : public MetadataStore {
 public:
  /// Version of the table layout this build writes; older files are migrated on open.
  static constexpr int64_t kSchemaVersion = 5;

  /// Opens or creates the catalog file (parent folders must exist) and migrates it to kSchemaVersion.
  static Result<std::unique_ptr<SqliteMetadataStore>> Open(const std::filesystem::path& file,
                                                           std::shared_ptr<const Clock> clock,
                                                           SqliteStoreOptions options = {});
  ~SqliteMetadataStore() override;

  std::string Describe() const override;
  Result<std::optional<TableInfo>> GetTable(const TableName& name) override;
  Result<std::vector<TableInfo>> ListTables() override;
  Result<std::vector<DataFile>> ListFiles(const TableName& name, std::optional<int64_t> as_of = std::nullopt) override;
  Result<std::vector<TableVersion>> History(const TableName& name) override;
  Result<std::optional<int64_t>> VersionAt(const TableName& name, TimePoint t) override;
  Result<CommitResult> Commit(const CommitRequest& request) override;
  Result<std::vector<std::string>> AllReferencedPaths() override;
  Result<std::vector<std::string>> PathsRemovedBefore(TimePoint before) override;
  Result<std::optional<std::string>> GetState(const std::string& scope, const std::string& key) override;
  Result<std::vector<std::pair<std::string, std::string>>> ListState(const std::string& scope) override;
  Result<std::vector<std::pair<std::string, std::string>>> StateWithKey(const std::string& key) override;
  Result<std::vector<LoadedFile>> LoadedFiles(const std::string& scope) override;
  Status PutWindowJob(const WindowJob& job, const std::vector<StateUpdate>& state) override;
  Result<std::vector<WindowJob>> ListWindowJobs(const std::string& pipeline = "") override;
  Status RemoveWindowJob(const std::string& pipeline, const std::string& job,
                         const std::vector<StateUpdate>& state) override;
  Status InsertRun(const RunRecord& run) override;
  Status UpdateRun(const RunRecord& run) override;
  Result<std::vector<RunRecord>> ListRuns(int limit, const std::string& pipeline_filter = "") override;
  Result<std::vector<RunRecord>> RunningRuns() override;
  Result<std::optional<RunRecord>> GetRun(const std::string& id_or_prefix) override;
  Result<std::vector<RunTotals>> SummarizeRuns() override;
  Result<EnqueueResult> EnqueueRun(const QueuedRun& run, const std::optional<TriggerState>& trigger_state) override;
  Status SaveTriggerState(const TriggerState& state) override;
  Result<std::optional<std::string>> GetTriggerState(const std::string& pipeline,
                                                     const std::string& trigger_key) override;
  Result<std::optional<QueuedRun>> ClaimQueuedRun(TimePoint now,
                                                  const std::vector<std::string>& busy_pipelines) override;
  Status FinishQueuedRun(const RunId& id) override;
  Result<bool> CancelQueuedRun(const RunRecord& cancelled) override;
  Result<std::vector<QueuedRun>> PendingQueue() override;
  Result<std::optional<QueuedRun>> GetQueuedRun(const std::string& id) override;
  Result<int64_t> PruneQueue(TimePoint before) override;
  void SetTableFormatPublisher(std::shared_ptr<TableFormatPublisher> publisher) override;
  Result<std::vector<TableFormatPointer>> ListTableFormatPointers() override;
  Result<std::optional<TableFormatPointer>> GetTableFormatPointer(const TableName& table) override;
  Status SetTableFormatPointer(const TableName& table, const std::optional<std::string>& expected,
                               const std::string& metadata_location) override;

 private:
  SqliteMetadataStore(std::unique_ptr<sqlite::Connection> connection, std::filesystem::path file,
                      std::shared_ptr<const Clock> clock);
  Status Migrate();
  /// The table's id and current version, or NotFound naming the nearest existing table.
  Result<std::pair<int64_t, int64_t>> RequireTable(const TableName& name);
  /// With mutex_ held.
  Status InsertRunLocked(const RunRecord& run);
  /// Within an open transaction.
  Status ApplyStateUpdates(const std::vector<StateUpdate>& state, int64_t now_us);
  Result<int64_t> ApplyTableChange(const CommitRequest& request, const TableChange& change, int64_t now_us);
  /// Within an open transaction.
  Result<TableInfo> TableById(int64_t table_id);
  /// Within an open transaction: the files of a table's version.
  Result<std::vector<DataFile>> FilesAt(int64_t table_id, int64_t version);
  /// Within a commit's transaction: has publisher_ write the table format's metadata of the new version and
  /// moves the table's pointer to it (compare-and-set); the pointer is announced after the transaction.
  Status PublishVersion(const TableName& table, int64_t table_id, PublishedVersion published);
  /// Within an open transaction; nullopt when the table has no pointer.
  Result<std::optional<TableFormatPointer>> ReadPointer(const TableName& table);
  Status WritePointer(const TableName& table, const std::optional<std::string>& expected, const std::string& location);
  /// After a commit: tells publisher_ which metadata became current (pending_announcements_), then forgets them.
  void AnnouncePublished();

  std::mutex mutex_;  // one connection, so one call at a time
  std::unique_ptr<sqlite::Connection> connection_;
  std::filesystem::path file_;
  std::shared_ptr<const Clock> clock_;
  std::shared_ptr<TableFormatPublisher> publisher_;
  std::vector<std::pair<TableInfo, std::string>> pending_announcements_;  // of the commit under way
};

}  // namespace sluice::catalog
