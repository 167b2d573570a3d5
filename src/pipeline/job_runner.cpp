#include "pipeline/job_runner.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/strings.hpp"
#include "connectors/sinks/lake/lake_sink.hpp"
#include "pipeline/change_detection.hpp"
#include "storage/lake_layout.hpp"

namespace sluice::pipeline {
namespace fs = std::filesystem;
namespace {

/// mode: changes (pg): where a run's key → hash index goes in the lake, outside any table's files.
std::string ChangeIndexKey(const std::string& pipeline, const std::string& job, const std::string& run_id) {
  return fmt::format("_sluice/change_index/{}/{}/{}.parquet", pipeline, job, run_id);
}

std::string StateScope(const config::PipelineConfig& pipeline, const config::JobConfig& job) {
  return pipeline.name + "/" + job.name;
}

/// "2026-11-23 10:56:00.123456", a literal DuckDB reads as TIMESTAMP (UTC).
std::string SqlTimestamp(TimePoint t) {
  std::string text = FormatTimestampUtc(t);
  text[10] = ' ';
  text.pop_back();
  return text;
}

/// Polls the engine's progress while a statement runs, feeding the listener.
class ProgressPoller {
 public:
  ProgressPoller(engine::Connection& connection, ProgressListener* listener, std::string job, uint64_t input_bytes)
      : started_(std::chrono::steady_clock::now()) {
    if (listener == nullptr) return;
    thread_ = std::thread([this, &connection, listener, job = std::move(job), input_bytes] {
      std::unique_lock lock(mutex_);
      while (!cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stop_; })) {
        auto p = connection.CurrentProgress();
        JobProgress progress;
        progress.job = job;
        progress.percentage = p.percentage;
        progress.rows = p.rows_processed;
        progress.input_bytes = input_bytes;
        progress.elapsed_seconds = Elapsed();
        listener->OnJobProgress(progress);
      }
    });
  }
  ~ProgressPoller() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  double Elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  }

 private:
  std::chrono::steady_clock::time_point started_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

/// The table's schema after adding `incoming` columns: existing columns keep their place
/// (taking the new type when it changed), new columns are appended.
catalog::Schema MergeSchema(const std::optional<catalog::TableInfo>& existing,
                            const std::vector<engine::ColumnDescription>& incoming,
                            const std::vector<std::string>& partition_columns) {
  catalog::Schema merged;
  if (existing) merged = existing->schema;
  auto upsert = [&](const std::string& name, const std::string& type) {
    for (auto& c : merged.columns) {
      if (c.name == name) {
        c.type = type;
        return;
      }
    }
    merged.columns.push_back({name, type, true});
  };
  for (const auto& c : incoming) upsert(c.name, c.type);
  for (const auto& p : partition_columns) {
    if (p == "_load_date") upsert(p, "DATE");
  }
  return merged;
}

/// Cleans the run's private folders whatever happens.
struct ScratchFolder {
  fs::path path;
  ~ScratchFolder() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

class JobExecution {
 public:
  JobExecution(JobRunContext& context, const config::JobConfig& job) : ctx_(context), job_(job), ws_(context.workspace) {
    summary_.job = job.name;
    summary_.table = job.target.zone + "." + job.target.table;
  }

  JobSummary Run() {
    auto started = std::chrono::steady_clock::now();
    Status st = Execute();
    summary_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!st.ok()) {
      // An interrupted statement fails with the engine's generic error; the reason is ours.
      if (ctx_.interrupt != nullptr && !ctx_.interrupt->reason().ok()) st = ctx_.interrupt->reason();
      summary_.retryable = st.retryable();
      if (!uploaded_.empty()) connectors::DiscardUploaded(ws_.lake(), uploaded_);
      summary_.status = "failed";
      summary_.message = ws_.Redact(st.WithContext("job '{}' of pipeline '{}'", job_.name, ctx_.pipeline.name).message());
      spdlog::error("{}", summary_.message);
    }
    return summary_;
  }

 private:
  Status Execute() {
    SLUICE_ASSIGN_OR_RETURN(auto source, BindJobSource(ws_, ctx_.pipeline, job_));
    const auto& plan = source->plan();
    SLUICE_ASSIGN_OR_RETURN(auto table_name, catalog::TableName::Parse(summary_.table));
    storage::TableLayout layout{job_.target.zone, job_.target.zone == "raw" ? plan.origin : "", job_.target.table};
    std::string data_prefix = job_.target.zone == "raw"
                                  ? layout.DataPrefix("original", plan.is_incremental ? "incremental" : "full")
                                  : layout.Root();

    std::string scope = StateScope(ctx_.pipeline, job_);
    connectors::Checkpoint checkpoint;
    if (!ctx_.full_refresh) {
      SLUICE_ASSIGN_OR_RETURN(auto loaded, ws_.catalog().LoadedFiles(scope));
      for (const auto& f : loaded) checkpoint.consumed.push_back({f.path, f.size, f.mtime_us, f.content_hash});
      SLUICE_ASSIGN_OR_RETURN(auto state, ws_.catalog().GetState(scope, "source"));
      if (state) checkpoint.state_json = *state;
    }

    ScratchFolder scratch{ws_.state_dir() / "staging" / ctx_.run_id / job_.name};
    connectors::RunContext run_context{ws_.clock(), scratch.path / "work", ctx_.run_id};
    std::error_code ec;
    fs::create_directories(run_context.work_dir, ec);
    if (ec) return Status::IoError("cannot create '{}': {}", run_context.work_dir.string(), ec.message());

    SLUICE_ASSIGN_OR_RETURN(auto reader, source->Open(checkpoint, run_context));
    if (ctx_.listener) ctx_.listener->OnJobStart(job_.name, reader->PendingSummary());
    if (reader->NothingToRead()) {
      summary_.status = "no_changes";
      summary_.message = fmt::format("no new input ({})", plan.description);
      return Status::OK();
    }
    if (job_.on_error == "quarantine" && plan.connector != "files") {
      spdlog::warn("job '{}': the {} source cannot set rows aside; malformed input fails the run", job_.name,
                   plan.connector);
    }

    SLUICE_ASSIGN_OR_RETURN(auto connection, ws_.engine().Connect());
    ScopedInterruptAttach interruptible(ctx_.interrupt, *connection);
    SLUICE_TRY(Interrupted());
    std::string relation = "source_" + job_.name;
    TimePoint loaded_at = ws_.clock().Now();
    bool metadata_columns = true;
    if (const auto* add = job_.target.raw.Find("add_metadata_columns")) {
      SLUICE_ASSIGN_OR_RETURN(metadata_columns, add->AsBool());
    }

    std::vector<std::pair<std::string, std::string>> fixed_partitions;
    std::vector<std::string> partition_columns;
    if (job_.target.zone == "raw") {
      fixed_partitions.emplace_back("_load_date", FormatDateUtc(loaded_at));
      partition_columns.push_back("_load_date");
    }
    for (const auto& c : job_.target.partition_by) partition_columns.push_back(c);

    connectors::LakeWriteRequest write;
    write.data_prefix = data_prefix;
    write.fixed_partitions = fixed_partitions;
    write.partition_by = job_.target.partition_by;
    if (const auto* size = job_.target.raw.Find("file_size")) {
      SLUICE_ASSIGN_OR_RETURN(write.target_file_bytes, size->AsByteSize());
    }

    // mode: changes (pg) — the previous key → hash index, and a detector diffing each part against it.
    std::unique_ptr<ChangeDetector> changes;
    ChangeIndexRef previous_index;
    if (job_.mode == "changes") {
      SLUICE_ASSIGN_OR_RETURN(changes, StartChangeDetection(*connection, scope, scratch.path, &previous_index));
    }
    // end mode: changes

    // One staged part per part the source hands over; memory holds one part at a time.
    std::vector<connectors::StagedFile> staged;
    std::string select_sql;
    auto stage_part = [&](const std::string& part_relation, int part) -> Status {
      SLUICE_ASSIGN_OR_RETURN(select_sql, SelectWithMetadata(*connection, part_relation, metadata_columns, loaded_at));
      write.select_sql = select_sql;
      write.staging_dir = scratch.path / "data" / fmt::format("part-{:05d}", part);
      write.file_prefix = fmt::format("part-{}-{:05d}", ctx_.run_id, part);
      SLUICE_ASSIGN_OR_RETURN(auto part_files, connectors::WriteParquetToStaging(*connection, write));
      for (auto& f : part_files) {
        // Staging folders differ per part; keys already carry the part number in the file name.
        summary_.rows_written += f.rows;
        summary_.bytes_written += f.bytes;
        staged.push_back(std::move(f));
      }
      return Status::OK();
    };
    int part = 0;
    for (;; ++part) {
      SLUICE_TRY(Interrupted());
      connectors::ReadState read_state;
      {
        ProgressPoller poller(*connection, ctx_.listener, job_.name, reader->PendingBytes());
        SLUICE_ASSIGN_OR_RETURN(read_state, reader->Read(*connection, relation));
        std::string part_relation = relation;
        if (changes) {  // mode: changes (pg)
          SLUICE_ASSIGN_OR_RETURN(part_relation, changes->DiffPart(relation));
        }
        SLUICE_TRY(stage_part(part_relation, part));
      }
      if (read_state == connectors::ReadState::kFinished) break;
    }
    // mode: changes (pg) — delete markers, "no changes", and the new index staged with the data.
    std::optional<connectors::StagedFile> new_index;
    if (changes) {
      SLUICE_ASSIGN_OR_RETURN(auto deleted, changes->FinishDeletes());
      if (!deleted.empty()) SLUICE_TRY(stage_part(deleted, part + 1));
      summary_.message = fmt::format("{} inserted, {} updated, {} deleted", changes->inserts(), changes->updates(),
                                     changes->deletes());
      if (changes->changes() == 0) {
        summary_.status = "no_changes";
        summary_.message = fmt::format("no changes in {} rows ({})", changes->index_rows(), plan.description);
        return Status::OK();
      }
      connectors::StagedFile index;
      index.local = scratch.path / "change_index.parquet";
      index.key = ChangeIndexKey(ctx_.pipeline.name, job_.name, ctx_.run_id);
      index.rows = changes->index_rows();
      SLUICE_TRY(changes->WriteIndex(index.local));
      new_index = index;
    }
    // end mode: changes
    summary_.files_written = static_cast<int64_t>(staged.size());

    std::vector<connectors::StagedFile> rejected_files;
    SLUICE_TRY(HandleRejects(*connection, *reader, layout, scratch.path, loaded_at, &rejected_files));
    summary_.rows_read = summary_.rows_written + summary_.rows_rejected;
    if (changes) summary_.rows_read = changes->index_rows();  // mode: changes (pg): every current row was read

    SLUICE_ASSIGN_OR_RETURN(auto columns, connection->Describe(select_sql));
    SLUICE_ASSIGN_OR_RETURN(auto existing, ws_.catalog().GetTable(table_name));

    catalog::CommitRequest commit;
    commit.run_id = RunId{ctx_.run_id};
    commit.pipeline = ctx_.pipeline.name;
    commit.job = job_.name;
    catalog::TableChange change;
    change.table = table_name;
    bool replace_contents = ctx_.full_refresh || plan.snapshot;
    change.operation = replace_contents ? catalog::WriteOperation::kOverwrite : catalog::WriteOperation::kAppend;
    change.remove_all_current = replace_contents;
    change.location = layout.Root();
    change.source = plan.description;
    change.partition_columns = partition_columns;
    change.schema = MergeSchema(ctx_.full_refresh ? std::nullopt : existing, columns, partition_columns);
    for (const auto& f : staged) change.added.push_back({f.key, f.rows, f.bytes, f.partition_values, 0});
    commit.tables.push_back(std::move(change));

    if (!rejected_files.empty()) {
      catalog::TableChange rejects;
      rejects.table = catalog::TableName{job_.target.zone, job_.target.table + "__rejects"};
      rejects.location = storage::TableLayout{layout.zone, layout.source, job_.target.table + "__rejects"}.Root();
      rejects.source = "rows of " + summary_.table + " that could not be read";
      rejects.partition_columns = {"_load_date"};
      SLUICE_ASSIGN_OR_RETURN(auto reject_columns, connection->Describe(RejectsSelect(*reader, loaded_at)));
      SLUICE_ASSIGN_OR_RETURN(auto existing_rejects, ws_.catalog().GetTable(rejects.table));
      rejects.schema = MergeSchema(existing_rejects, reject_columns, rejects.partition_columns);
      for (const auto& f : rejected_files) rejects.added.push_back({f.key, f.rows, f.bytes, f.partition_values, 0});
      commit.tables.push_back(std::move(rejects));
    }

    auto new_checkpoint = reader->NewCheckpoint();
    for (const auto& c : new_checkpoint.consumed) {
      commit.loaded_files.push_back({scope, c.path, c.size, c.mtime_us, c.content_hash});
    }
    if (new_checkpoint.state_json != "{}") commit.state.push_back({scope, "source", new_checkpoint.state_json});
    if (ctx_.full_refresh) commit.forget_loaded_scopes.push_back(scope);
    if (new_index) {  // mode: changes (pg): the index advances only with this commit
      commit.state.push_back({scope, "change_index", ChangeIndexRef{new_index->key, new_index->rows}.ToJson()});
    }

    SLUICE_TRY(connectors::UploadStaged(ws_.lake(), staged));
    uploaded_ = staged;
    SLUICE_TRY(connectors::UploadStaged(ws_.lake(), rejected_files));
    uploaded_.insert(uploaded_.end(), rejected_files.begin(), rejected_files.end());
    if (new_index) {  // mode: changes (pg)
      SLUICE_TRY(connectors::UploadStaged(ws_.lake(), {*new_index}));
      uploaded_.push_back(*new_index);
    }

    SLUICE_TRY(Interrupted());  // the last moment a timeout or cancellation keeps the run unpublished
    SLUICE_ASSIGN_OR_RETURN(auto result, ws_.catalog().Commit(commit));
    uploaded_.clear();  // published: no longer ours to discard
    if (new_index && !previous_index.key.empty()) {  // mode: changes (pg): the superseded index
      Status removed = ws_.lake().Delete(previous_index.key);
      if (!removed.ok()) spdlog::warn("job '{}': could not remove the old change index: {}", job_.name, removed.message());
    }
    summary_.table_version = result.versions.empty() ? 0 : result.versions.front();
    summary_.status = "succeeded";
    if (summary_.rows_rejected > 0) {
      summary_.message = fmt::format("{} rows set aside in {}__rejects", summary_.rows_rejected, summary_.table);
    }
    return Status::OK();
  }

  /// mode: changes (pg): loads the index the last commit referenced (none after --full-refresh).
  Result<std::unique_ptr<ChangeDetector>> StartChangeDetection(engine::Connection& connection, const std::string& scope,
                                                               const fs::path& scratch, ChangeIndexRef* previous) {
    std::optional<fs::path> local;
    if (!ctx_.full_refresh) {
      SLUICE_ASSIGN_OR_RETURN(auto state, ws_.catalog().GetState(scope, "change_index"));
      if (state) {
        SLUICE_ASSIGN_OR_RETURN(*previous, ChangeIndexRef::Parse(*state));
      }
      if (!previous->key.empty()) {
        local = scratch / "previous_change_index.parquet";
        SLUICE_TRY(ws_.lake().GetToFile(previous->key, *local).WithContext("reading the change index"));
      }
    }
    ChangeDetectionOptions options;
    options.primary_key = job_.primary_key;
    options.mark_deletes = job_.deletes == "mark";
    options.ignore_columns = {"_source_file", "_loaded_at"};
    options.table_prefix = "changes_" + job_.name;
    options.where = fmt::format("job '{}' of pipeline '{}'", job_.name, ctx_.pipeline.name);
    return ChangeDetector::Start(connection, std::move(options), local);
  }

  /// The part's rows plus _loaded_at (replacing an input column of that name), or without
  /// _source_file when the target turned metadata columns off.
  static Result<std::string> SelectWithMetadata(engine::Connection& connection, const std::string& relation,
                                                bool metadata_columns, TimePoint loaded_at) {
    SLUICE_ASSIGN_OR_RETURN(auto input_columns, connection.Describe("SELECT * FROM " + SqlIdent(relation)));
    bool has_loaded_at = false, has_source_file = false;
    for (const auto& c : input_columns) {
      has_loaded_at |= c.name == "_loaded_at";
      has_source_file |= c.name == "_source_file";
    }
    std::string loaded_at_sql = fmt::format("TIMESTAMP '{}'", SqlTimestamp(loaded_at));
    if (!metadata_columns) {
      return fmt::format("SELECT *{} FROM {}", has_source_file ? " EXCLUDE (_source_file)" : "", SqlIdent(relation));
    }
    if (has_loaded_at) {
      return fmt::format("SELECT * REPLACE ({} AS _loaded_at) FROM {}", loaded_at_sql, SqlIdent(relation));
    }
    return fmt::format("SELECT *, {} AS _loaded_at FROM {}", loaded_at_sql, SqlIdent(relation));
  }

  std::string RejectsSelect(const connectors::SourceReader& reader, TimePoint loaded_at) const {
    return fmt::format("SELECT *, {} AS _run_id, TIMESTAMP '{}' AS _loaded_at FROM {}", SqlQuote(ctx_.run_id),
                       SqlTimestamp(loaded_at), reader.RejectsRelation());
  }

  /// Fails the job on the first unreadable row, or writes all of them to <table>__rejects.
  Status HandleRejects(engine::Connection& connection, const connectors::SourceReader& reader,
                       const storage::TableLayout& layout, const fs::path& scratch, TimePoint loaded_at,
                       std::vector<connectors::StagedFile>* out) {
    std::string rejects = reader.RejectsRelation();
    if (rejects.empty()) return Status::OK();
    SLUICE_ASSIGN_OR_RETURN(auto count, connection.Query(fmt::format("SELECT count(*) AS n FROM {}", rejects)));
    summary_.rows_rejected = count.GetInt(0, "n");
    if (summary_.rows_rejected == 0) return Status::OK();
    if (job_.on_error != "quarantine") {
      SLUICE_ASSIGN_OR_RETURN(
          auto first, connection.Query(fmt::format("SELECT * FROM {} ORDER BY _source_file, _line LIMIT 1", rejects)));
      std::string column = first.Get(0, "_column");
      return Status::DataError(
          "{} row{} could not be read; first at {}:{}{}: {}. Fix the input, or set on_error: quarantine to load the "
          "good rows and keep the bad ones in {}__rejects",
          summary_.rows_rejected, summary_.rows_rejected == 1 ? "" : "s", first.Get(0, "_source_file"),
          first.Get(0, "_line"), column.empty() ? "" : fmt::format(" (column '{}')", column),
          Trim(Split(first.Get(0, "_reason"), '\n').front()), summary_.table);
    }
    connectors::LakeWriteRequest write;
    write.select_sql = RejectsSelect(reader, loaded_at);
    write.staging_dir = scratch / "rejects";
    write.data_prefix = storage::TableLayout{layout.zone, layout.source, job_.target.table + "__rejects"}.Root();
    write.fixed_partitions = {{"_load_date", FormatDateUtc(loaded_at)}};
    write.file_prefix = "part-" + ctx_.run_id;
    SLUICE_ASSIGN_OR_RETURN(*out, connectors::WriteParquetToStaging(connection, write));
    spdlog::warn("job '{}': {} unreadable rows set aside in {}__rejects", job_.name, summary_.rows_rejected,
                 summary_.table);
    return Status::OK();
  }

  Status Interrupted() const { return ctx_.interrupt != nullptr ? ctx_.interrupt->reason() : Status::OK(); }

  JobRunContext& ctx_;
  const config::JobConfig& job_;
  Workspace& ws_;
  JobSummary summary_;
  std::vector<connectors::StagedFile> uploaded_;
};

}  // namespace

Result<ResolvedSource> ResolveSource(const Workspace& workspace, const config::PipelineConfig& pipeline,
                                     const config::JobConfig& job) {
  const auto& source = job.source;
  std::string where = fmt::format("{}: source of job '{}' in pipeline '{}'", source.location().ToString(), job.name,
                                  pipeline.name);
  if (!source.IsMap()) return Status::Invalid("{} must be a map with type:, connection: or table:", where);
  ResolvedSource resolved;
  std::vector<std::pair<std::string, config::Value>> entries;
  std::string type;
  if (const auto* connection = source.Find("connection")) {
    SLUICE_ASSIGN_OR_RETURN(resolved.connection_name, connection->AsString());
    const auto& connections = workspace.project().connections;
    const auto* conn = connections.Find(resolved.connection_name);
    if (conn == nullptr) {
      std::string hint = NearestWord(resolved.connection_name, connections.Keys());
      return Status::Invalid("{}: connection '{}' is not defined under connections: in sluice.yaml{}",
                             connection->location().ToString(), resolved.connection_name,
                             hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint));
    }
    SLUICE_ASSIGN_OR_RETURN(type, conn->Find("type")->AsString());
    for (const auto& [k, v] : conn->entries()) {
      if (k != "type") entries.emplace_back(k, v);
    }
  } else if (const auto* t = source.Find("type")) {
    SLUICE_ASSIGN_OR_RETURN(type, t->AsString());
  } else if (source.Find("table") != nullptr) {
    return Status::Invalid(
        "{} reads a catalog table (source: {{table: zone.name}}); processing jobs over catalog tables are not "
        "available in this version — load from a connector (type: files) instead",
        where);
  } else {
    return Status::Invalid("{} needs type: (a connector such as files), connection: or table:", where);
  }
  for (const auto& [k, v] : source.entries()) {
    if (k == "type" || k == "connection") continue;
    bool replaced = false;
    for (auto& e : entries) {
      if (e.first == k) {
        e.second = v;
        replaced = true;
      }
    }
    if (!replaced) entries.emplace_back(k, v);
  }
  resolved.descriptor = workspace.sources().Find(type);
  if (resolved.descriptor == nullptr) {
    std::string hint = NearestWord(type, workspace.sources().Names());
    return Status::Invalid("{}: unknown source type '{}'{}; available: {}", where, type,
                           hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint),
                           Join(workspace.sources().Names(), ", "));
  }
  resolved.options = config::Value::Map(std::move(entries), source.location(), source.path());
  return resolved;
}

Result<std::unique_ptr<connectors::Source>> BindJobSource(const Workspace& workspace,
                                                          const config::PipelineConfig& pipeline,
                                                          const config::JobConfig& job) {
  SLUICE_ASSIGN_OR_RETURN(auto resolved, ResolveSource(workspace, pipeline, job));
  connectors::BindContext context{workspace.project(), pipeline.name, job.name, resolved.connection_name, &job};
  return connectors::BindSource(*resolved.descriptor, context, resolved.options);
}

JobSummary RunJob(JobRunContext& context, const config::JobConfig& job) { return JobExecution(context, job).Run(); }

}  // namespace sluice::pipeline
