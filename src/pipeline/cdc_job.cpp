#include "pipeline/cdc_job.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <filesystem>
#include <future>

#include "common/fault_point.hpp"
#include "common/strings.hpp"
#include "connectors/sinks/lake/lake_sink.hpp"
#include "pipeline/catalog_views.hpp"
#include "pipeline/cdc_toast_fill.hpp"
#include "pipeline/resumable_load.hpp"
#include "pipeline/schema_evolution.hpp"
#include "storage/lake_layout.hpp"

namespace sluice::pipeline {
namespace fs = std::filesystem;
namespace {

std::string CopiedTablesJson(const std::vector<std::string>& tables) {
  return nlohmann::json{{"tables", tables}}.dump();
}

Result<std::vector<std::string>> ParseCopiedTables(const std::string& text) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.contains("tables") || !json["tables"].is_array()) {
    return Status::DataError(
        "the stored progress of the cdc copy is not readable ({}); run with --full-refresh to copy "
        "the tables again",
        text);
  }
  std::vector<std::string> tables;
  for (const auto& t : json["tables"]) {
    if (t.is_string()) tables.push_back(t.get<std::string>());
  }
  return tables;
}

/// The copy's rows carry the change-record columns too: `snapshot` rows at position 0, before
/// every change the stream brings.
constexpr const char* kSnapshotColumns =
    "- add_columns:\n"
    "    _change_type: \"'snapshot'\"\n"
    "    _lsn: CAST(0 AS BIGINT)\n"
    "    _commit_ts: CAST(NULL AS TIMESTAMPTZ)\n"
    "    _txid: CAST(NULL AS BIGINT)\n";

class CdcJob {
 public:
  CdcJob(JobRunContext& context, const config::JobConfig& job) : ctx_(context), job_(job), ws_(context.workspace) {
    summary_.job = job.name;
    summary_.table = job.target.zone + ".*";
  }

  JobSummary Run() {
    return TimedJob(
        ctx_, job_, &summary_, [this] { return Execute(); }, &uploaded_);
  }

 private:
  Status Execute() {
    SLUICE_FAULT_POINT("job_started");
    scope_ = JobStateScope(ctx_.pipeline.name, job_.name);
    scratch_ = ws_.state_dir() / "staging" / ctx_.run_id.value / job_.name;
    SLUICE_ASSIGN_OR_RETURN(auto source, BindJobSource(ws_, ctx_.pipeline, job_));
    origin_ = source->plan().origin;
    SLUICE_ASSIGN_OR_RETURN(capture_, source->OpenChangeCapture());
    std::vector<std::string> labels;
    for (const auto& t : capture_->tables()) labels.push_back(job_.target.zone + "." + t.lake_table);
    summary_.table = Join(labels, ", ");
    std::string policy_text = "evolve";  // a new source column is the normal case here, not a surprise
    if (const auto* p = job_.target.raw.Find("schema_evolution")) {
      SLUICE_ASSIGN_OR_RETURN(policy_text, p->AsString());
    }
    SLUICE_ASSIGN_OR_RETURN(policy_, ParseSchemaChangePolicy(policy_text));

    SLUICE_ASSIGN_OR_RETURN(auto stored, ws_.catalog().GetState(scope_, kCdcStateKey));
    std::string state = stored.value_or("");
    SLUICE_ASSIGN_OR_RETURN(auto start, capture_->Start(state, ctx_.full_refresh));
    for (const auto& w : start.warnings) warnings_.push_back(w);
    if (ctx_.listener) ctx_.listener->OnJobStart(job_.name, source->plan().description);
    if (start.copy) {
      SLUICE_TRY(CopyTables(start));
      catalog::CommitRequest commit = NewCommit();
      commit.state.push_back({scope_, kCdcStateKey, start.copied_state_json});
      commit.state.push_back({scope_, kCdcCopyKey, std::nullopt});
      SLUICE_TRY(ws_.catalog().Commit(commit).status());
      SLUICE_FAULT_POINT("cdc_copy_committed");
      state = start.copied_state_json;
    }
    SLUICE_TRY(capture_->StartStreaming(state));
    return Stream();
  }

  /// Each table through the ordinary full-load path, reading in the slot's snapshot. The copy is
  /// resumable: the slot and its consistent point are committed before the first chunk, each
  /// table's chunks are recorded as its pending load (job_runner), and the commit that publishes a
  /// table also records it as copied. A resumed copy reads the rest in snapshots of its own
  /// (docs/connectors/postgres-cdc.md explains why that converges).
  Status CopyTables(const connectors::CaptureStart& start) {
    SLUICE_ASSIGN_OR_RETURN(auto steps, config::ParseYaml(kSnapshotColumns, "(cdc snapshot columns)", {}));
    std::vector<std::string> done;
    if (start.resumed) {
      SLUICE_ASSIGN_OR_RETURN(auto stored, ws_.catalog().GetState(scope_, kCdcCopyKey));
      if (stored) {
        SLUICE_ASSIGN_OR_RETURN(done, ParseCopiedTables(*stored));
      }
      resumed_copy_ = true;
      spdlog::info("job '{}': resuming the interrupted copy ({} of {} tables done)", job_.name, done.size(),
                   capture_->tables().size());
    } else {
      // Before any data: the slot sluice made and its consistent point, and no chunk of an older copy
      // (read in another snapshot) may be taken for this one.
      catalog::CommitRequest commit = NewCommit();
      commit.state.push_back({scope_, kCdcStateKey, start.copying_state_json});
      commit.state.push_back({scope_, kCdcCopyKey, CopiedTablesJson(done)});
      for (const auto& table : capture_->tables()) {
        commit.state.push_back({JobStateScope(ctx_.pipeline.name, CopyJobName(table)), kPendingLoadKey, std::nullopt});
      }
      SLUICE_TRY(ws_.catalog().Commit(commit).status());
      SLUICE_FAULT_POINT("cdc_copy_started");
    }
    for (const auto& table : capture_->tables()) {
      if (std::find(done.begin(), done.end(), table.lake_table) != done.end()) continue;
      config::JobConfig copy = job_;
      copy.name = CopyJobName(table);
      copy.mode = config::LoadMode::kFull;
      copy.steps = steps;
      copy.checks = config::Value();
      copy.target.table = table.lake_table;
      std::vector<std::pair<std::string, config::Value>> entries;
      for (const auto& [k, v] : job_.source.entries()) {
        if (k != "table" && k != "tables") entries.emplace_back(k, v);
      }
      entries.emplace_back("table", config::Value::Scalar(table.source, job_.source.location()));
      copy.source = config::Value::Map(std::move(entries), job_.source.location(), job_.source.path());
      JobRunContext sub{ws_, ctx_.pipeline, ctx_.run_id, /*full_refresh=*/true, ctx_.listener, ctx_.interrupt};
      sub.source_snapshot = start.snapshot;
      sub.snapshot_copy = true;
      std::vector<std::string> with_this = done;
      with_this.push_back(table.lake_table);
      sub.commit_state.push_back({scope_, kCdcCopyKey, CopiedTablesJson(with_this)});
      JobSummary copied = RunJob(sub, copy);
      if (ctx_.listener) ctx_.listener->OnJobFinish(copied);
      if (copied.status == JobStatus::kFailed) {
        return Status(StatusCode::kIoError,
                      fmt::format("copying {} from the slot's snapshot: {}", table.source, copied.message),
                      copied.retryable);
      }
      done = std::move(with_this);
      summary_.rows_read += copied.rows_read;
      summary_.rows_written += copied.rows_written;
      summary_.bytes_written += copied.bytes_written;
      summary_.files_written += copied.files_written;
      copied_ += 1;
    }
    return Status::OK();
  }

  std::string CopyJobName(const connectors::CapturedTable& table) const {
    return job_.name + "__copy_" + table.lake_table;
  }

  /// A batch being written and committed on another thread while the next one is received.
  struct PendingCommit {
    std::future<Status> done;  // an std::async future: destroying it waits for the commit
    std::string state_json;
    int64_t rows = 0;
  };

  /// Micro-batches, each committed with its end position. Two engine connections take turns: the
  /// next batch is received into one while the previous one, read on the other, is written and
  /// committed on a second thread, so the server keeps streaming instead of waiting for every
  /// Parquet write and catalog commit. Commits stay one at a time and in order, and a position is
  /// confirmed to the server only after its commit (at most two batches are held in memory).
  Status Stream() {
    std::array<std::unique_ptr<engine::Connection>, 2> connections;
    for (auto& connection : connections) {
      SLUICE_ASSIGN_OR_RETURN(connection, ws_.engine().Connect());
    }
    ScopedInterruptAttach interruptible(ctx_.interrupt, *connections[0]);
    if (ctx_.interrupt != nullptr) {
      ctx_.interrupt->Attach([second = connections[1].get()] { second->Interrupt(); });
    }
    connectors::BatchLimits limits = capture_->Limits();
    limits.follow = ctx_.follow;
    limits.stop = ctx_.stop_following;
    int64_t changes = 0, batches = 0;
    // Declared after the connections, so an early return waits for the commit before they close.
    PendingCommit pending;
    auto confirm = [&](const std::string& state_json, int64_t rows) -> Status {
      // The position is durable in the catalog; only now may the server forget the WAL before it.
      SLUICE_FAULT_POINT("cdc_after_commit_before_confirm");
      SLUICE_TRY(capture_->Confirm(state_json));
      changes += rows;
      if (rows > 0) ++batches;
      return Status::OK();
    };
    auto finish_pending = [&]() -> Status {
      if (!pending.done.valid()) return Status::OK();
      SLUICE_TRY(pending.done.get());
      return confirm(pending.state_json, pending.rows);
    };
    size_t turn = 0;
    for (;;) {
      SLUICE_TRY(Interrupted(ctx_.interrupt));
      engine::Connection& connection = *connections[turn];
      SLUICE_ASSIGN_OR_RETURN(auto batch, capture_->ReadBatch(connection, limits));
      SLUICE_TRY(finish_pending());
      bool stop = limits.stop != nullptr && limits.stop->load();
      bool last = batch.caught_up || stop;
      if (batch.rows > 0 || batch.position_only) {
        if (last) {
          SLUICE_TRY(CommitBatch(connection, batch));
          SLUICE_TRY(confirm(batch.state_json, batch.rows));
        } else {
          pending.state_json = batch.state_json;
          pending.rows = batch.rows;
          pending.done = std::async(std::launch::async, [this, &connection, batch = std::move(batch)] {
            return CommitBatch(connection, batch);
          });
          turn = 1 - turn;
        }
      }
      if (last) break;
    }
    summary_.rows_read += changes;
    summary_.status = summary_.rows_written > 0 ? JobStatus::kSucceeded : JobStatus::kNoChanges;
    std::string copy_note;
    if (copied_ > 0 || resumed_copy_) {
      copy_note = fmt::format("{} {} tables, ", resumed_copy_ ? "resumed the interrupted copy:" : "copied", copied_);
    }
    summary_.message = fmt::format("{}{} changes in {} commits", copy_note, changes, batches);
    if (!warnings_.empty()) summary_.message += "; " + Join(warnings_, "; ");
    return Status::OK();
  }

  /// Stages each table's changes, uploads them and commits data and position in one transaction.
  Status CommitBatch(engine::Connection& connection, const connectors::ChangeBatch& batch) {
    catalog::CommitRequest commit = NewCommit();
    std::vector<connectors::StagedFile> staged;
    TimePoint loaded_at = ws_.clock().Now();
    for (const auto& table : batch.tables) {
      SLUICE_ASSIGN_OR_RETURN(auto change, StageTable(connection, table, loaded_at, &staged));
      commit.tables.push_back(std::move(change));
    }
    commit.state.push_back({scope_, kCdcStateKey, batch.state_json});
    SLUICE_FAULT_POINT("cdc_batch_staged");
    uploaded_ = staged;
    SLUICE_TRY(connectors::UploadStaged(ws_.lake(), staged));
    SLUICE_TRY(Interrupted(ctx_.interrupt));
    SLUICE_ASSIGN_OR_RETURN(auto result, ws_.catalog().Commit(commit));
    uploaded_.clear();
    std::error_code ec;
    fs::remove_all(scratch_, ec);
    if (!result.versions.empty()) summary_.table_version = result.versions.back();
    return Status::OK();
  }

  Result<catalog::TableChange> StageTable(engine::Connection& connection, const connectors::ChangeBatchTable& table,
                                          TimePoint loaded_at, std::vector<connectors::StagedFile>* staged) {
    catalog::TableName name{job_.target.zone, table.lake_table};
    SLUICE_ASSIGN_OR_RETURN(auto existing, ws_.catalog().GetTable(name));
    std::string where =
        fmt::format("job '{}' of pipeline '{}', table {}", job_.name, ctx_.pipeline.name, name.ToString());
    std::string relation = SqlIdent(table.relation);
    if (table.has_unchanged) {
      std::optional<std::string> scan;
      if (existing && existing->current_version > 0) {
        SLUICE_ASSIGN_OR_RETURN(scan,
                                TableScanSql(ws_.catalog(), ws_.lake(), *existing, std::nullopt, &ws_.query_cache()));
      }
      SLUICE_ASSIGN_OR_RETURN(relation, FillUnchangedValues(connection, table, scan, where));
    }
    std::string select = fmt::format("SELECT * EXCLUDE ({}), {} AS _loaded_at FROM {}",
                                     SqlIdent(connectors::kUnchangedColumn), SqlTimestampLiteral(loaded_at), relation);
    SLUICE_ASSIGN_OR_RETURN(auto columns, connection.Describe(select));
    std::vector<std::string> partitions = {"_load_date"};
    auto decision = DecideSchema(existing, columns, partitions, policy_);
    if (!decision.ok()) return decision.status().WithContext("{}", where);
    catalog::Schema schema = WithTableFieldIds(existing, decision->schema);
    auto [fitting, unfit] = QuarantineSelects("(" + select + ")", *decision);
    if (!unfit.empty()) {
      return Status::DataError(
          "{}: a column changed type at the source in a way the table's schema_evolution: {} does "
          "not take; set target: schema_evolution: evolve",
          where, policy_ == SchemaChangePolicy::kQuarantine ? "quarantine" : "fail");
    }
    storage::TableLayout layout{job_.target.zone, job_.target.zone == "raw" ? origin_ : "", table.lake_table};
    connectors::LakeWriteRequest write;
    write.select_sql = fitting.empty() ? select : fitting;
    write.staging_dir = scratch_ / table.lake_table;
    write.data_prefix = job_.target.zone == "raw" ? layout.DataPrefix("original", "incremental") : layout.Root();
    write.fixed_partitions = {{"_load_date", FormatDateUtc(loaded_at)}};
    write.file_prefix = fmt::format("part-{}-{:05d}", ctx_.run_id, part_++);
    write.field_ids = ParquetFieldIds(schema);
    SLUICE_ASSIGN_OR_RETURN(auto files, connectors::WriteParquetToStaging(connection, write));
    catalog::TableChange change;
    change.table = name;
    change.operation = catalog::WriteOperation::kAppend;
    change.location = layout.Root();
    change.source = capture_->Describe();
    change.partition_columns = partitions;
    change.schema = schema;
    for (auto& f : files) {
      summary_.rows_written += f.rows;
      summary_.bytes_written += f.bytes;
      summary_.files_written += 1;
      change.added.push_back({f.key, f.rows, f.bytes, f.partition_values, 0, f.column_stats});
      staged->push_back(std::move(f));
    }
    return change;
  }

  catalog::CommitRequest NewCommit() const { return NewJobCommit(ctx_, job_); }

  JobRunContext& ctx_;
  const config::JobConfig& job_;
  Workspace& ws_;
  JobSummary summary_;
  std::string scope_, origin_;
  fs::path scratch_;
  SchemaChangePolicy policy_ = SchemaChangePolicy::kEvolve;
  std::unique_ptr<connectors::ChangeCapture> capture_;
  std::vector<connectors::StagedFile> uploaded_;
  std::vector<std::string> warnings_;
  int copied_ = 0;
  bool resumed_copy_ = false;
  int part_ = 0;
};

}  // namespace

JobSummary RunCdcJob(JobRunContext& context, const config::JobConfig& job) {
  CdcJob cdc(context, job);
  return cdc.Run();
}

}  // namespace sluice::pipeline
