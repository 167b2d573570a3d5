#include "pipeline/job_runner.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "common/fault_point.hpp"
#include "common/strings.hpp"
#include "connectors/sinks/lake/lake_sink.hpp"
#include "pipeline/catalog_input.hpp"
#include "pipeline/cdc_job.hpp"
#include "pipeline/change_detection.hpp"
#include "pipeline/catalog_views.hpp"
#include "pipeline/checks_runner.hpp"
#include "pipeline/rejects_writer.hpp"
#include "pipeline/resumable_load.hpp"
#include "pipeline/schema_evolution.hpp"
#include "pipeline/sql_job.hpp"
#include "pipeline/sink_job.hpp"
#include "pipeline/transform_chain.hpp"
#include "transforms/steps/mask/mask_step.hpp"
#include "storage/lake_layout.hpp"

namespace sluice::pipeline {
namespace fs = std::filesystem;
namespace {

/// mode: changes (pg): where a run's key → hash index goes in the lake, outside any table's files.
std::string ChangeIndexKey(const std::string& pipeline, const std::string& job, const std::string& run_id) {
  return fmt::format("{}{}/{}/{}.parquet", kChangeIndexPrefix, pipeline, job, run_id);
}

/// Polls the engine's progress while a statement runs, feeding the listener.
class ProgressPoller {
 public:
  ProgressPoller(engine::Connection& connection, ProgressListener* listener, std::string job, uint64_t input_bytes)
      : started_(std::chrono::steady_clock::now()) {
    if (listener == nullptr) return;
    thread_ = std::thread([this, &connection, listener, job = std::move(job), input_bytes] {
      // Progress is a display: a listener that throws stops the display, not the job or the process.
      try {
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
      } catch (const std::exception& e) {
        spdlog::warn("progress of job '{}' is no longer reported: {}", job, e.what());
      } catch (...) {
        spdlog::warn("progress of job '{}' is no longer reported", job);
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

/// Cleans the run's private folders whatever happens.
struct ScratchFolder {
  fs::path path;
  ~ScratchFolder() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

/// SQL reading staged (not yet published) Parquet files, hive folders as columns.
std::string StagedScan(const std::vector<connectors::StagedFile>& files) {
  std::vector<std::string> paths;
  for (const auto& f : files) paths.push_back(SqlQuote(f.local.string()));
  return fmt::format("read_parquet([{}], hive_partitioning = true, union_by_name = true)", Join(paths, ", "));
}

class JobExecution {
 public:
  JobExecution(JobRunContext& context, const config::JobConfig& job) : ctx_(context), job_(job), ws_(context.workspace) {
    summary_.job = job.name;
    summary_.table = JobTargetLabel(job);
  }

  bool lost_race() const { return lost_race_; }

  JobSummary Run() {
    return TimedJob(ctx_, job_, &summary_, [this] { return Execute(); }, &uploaded_);
  }

 private:
  Status Execute() {
    SLUICE_FAULT_POINT("job_started");
    SLUICE_ASSIGN_OR_RETURN(chain_, TransformChain::Build(job_, ctx_.pipeline.name));
    SLUICE_ASSIGN_OR_RETURN(checks_, ChecksRunner::Build(job_, ctx_.pipeline.name));
    SLUICE_ASSIGN_OR_RETURN(auto policy_text, job_.target.raw.GetString("schema_evolution", "fail"));
    auto policy = ParseSchemaChangePolicy(policy_text);
    if (!policy.ok()) return policy.status().WithContext("target of job '{}'", job_.name);
    policy_ = *policy;
    plan_.partition_by = job_.target.partition_by;
    plan_.write = job_.target.write;
    if (const auto* size = job_.target.raw.Find("file_size")) {
      SLUICE_ASSIGN_OR_RETURN(plan_.target_file_bytes, size->AsByteSize());
    }
    chain_.AdjustWrite(&plan_);
    SLUICE_ASSIGN_OR_RETURN(table_name_, catalog::TableName::Parse(summary_.table));
    SLUICE_ASSIGN_OR_RETURN(existing_, ws_.catalog().GetTable(table_name_));
    scope_ = JobStateScope(ctx_.pipeline.name, job_.name);
    scratch_.path = ws_.state_dir() / "staging" / ctx_.run_id / job_.name;
    loaded_at_ = ws_.clock().Now();
    if (ReadsCatalogTables(job_)) return ExecuteCatalogInput();
    return ExecuteConnector();
  }

  /// A processing job: the files committed to its input tables since its bookmark (all of them
  /// with --full-refresh, or whenever write: overwrite rebuilds the whole table).
  Status ExecuteCatalogInput() {
    // A declared `write: overwrite` rebuilds from whole inputs; merge also overwrites the table, but
    // applies only the new input rows to the target's current state. overwrite_partitions without
    // partition columns has one partition, the whole table.
    const bool by_partition = plan_.write == "overwrite_partitions";
    const bool rebuilds = job_.target.write == "overwrite" || (by_partition && plan_.partition_by.empty());
    SLUICE_ASSIGN_OR_RETURN(auto input, CatalogInput::Open(ws_.catalog(), job_, scope_, ctx_.full_refresh,
                                                           /*whole_when_changed=*/rebuilds));
    if (ctx_.listener) ctx_.listener->OnJobStart(job_.name, input.Summary());
    if (input.NothingToRead()) {
      summary_.status = "no_changes";
      summary_.message = fmt::format("no new input ({})", input.Summary());
      return Status::OK();
    }
    layout_ = storage::TableLayout{job_.target.zone, "", job_.target.table};
    StartRejects();
    partition_columns_ = plan_.partition_by;
    SLUICE_ASSIGN_OR_RETURN(auto connection, ws_.engine().Connect());
    ScopedInterruptAttach interruptible(ctx_.interrupt, *connection);
    SLUICE_TRY(Interrupted());
    std::string relation = "input_" + job_.name;
    // Catalog-input jobs bind zone.table views in the shared engine; concurrent ones would clobber them.
    std::lock_guard views_lock(ws_.catalog_input_mutex());
    SLUICE_TRY(input.Bind(*connection, ws_.catalog(), ws_.lake(), &ws_.query_cache(), relation));
    SLUICE_TRY(BindTargetCurrent(*connection));
    if (by_partition && !input.ReadsWholeTables()) {
      // Replacing a partition with what the new rows alone produce would drop its older rows: the
      // partitions the new rows reach are recomputed from the whole inputs (Spark's dynamic
      // partition overwrite, with the partitions chosen by the new input).
      SLUICE_ASSIGN_OR_RETURN(output_filter_, AffectedPartitions(*connection, SqlIdent(relation)));
      SLUICE_TRY(input.WidenToWholeTables(ws_.catalog()));
      SLUICE_TRY(input.Bind(*connection, ws_.catalog(), ws_.lake(), &ws_.query_cache(), relation));
    }
    {
      ProgressPoller poller(*connection, ctx_.listener, job_.name, input.PendingBytes());
      SLUICE_TRY(StagePart(*connection, SqlIdent(relation), 0, layout_.Root(), {}));
    }
    summary_.rows_read = summary_.rows_written + summary_.rows_rejected;
    SLUICE_TRY(Audit(*connection));

    catalog::CommitRequest commit = NewCommit();
    bool replace_all = ctx_.full_refresh || plan_.write == "overwrite";
    commit.tables.push_back(OutputChange(replace_all, input.Description()));
    SLUICE_TRY(rejects_->AddToCommit(&commit));
    for (auto& bookmark : input.AdvancedBookmarks(scope_)) commit.state.push_back(std::move(bookmark));
    return Publish(commit);
  }

  /// An ingestion job: a connector's parts, each staged as it arrives (memory holds one part).
  Status ExecuteConnector() {
    SLUICE_ASSIGN_OR_RETURN(auto source, BindJobSource(ws_, ctx_.pipeline, job_));
    const auto& plan = source->plan();
    layout_ = storage::TableLayout{job_.target.zone, job_.target.zone == "raw" ? plan.origin : "", job_.target.table};
    StartRejects();
    std::string data_prefix = job_.target.zone == "raw"
                                  ? layout_.DataPrefix("original", plan.is_incremental ? "incremental" : "full")
                                  : layout_.Root();

    connectors::Checkpoint checkpoint;
    if (!ctx_.full_refresh) {
      SLUICE_ASSIGN_OR_RETURN(checkpoint, LoadCheckpoint(ws_.catalog(), scope_));
    }

    // A snapshot load interrupted earlier carries on after its last uploaded chunk, unless refreshing.
    if (plan.snapshot) {
      SLUICE_ASSIGN_OR_RETURN(pending_, PendingLoad::Load(ws_.catalog(), scope_));
      if (pending_ && (!ctx_.full_refresh || ctx_.snapshot_copy)) {
        Status fetched = pending_->Fetch(ws_.lake(), scratch_.path / "resumed");
        if (fetched.ok()) {
          checkpoint.resume_token = pending_->resume_token;
        } else {
          spdlog::warn("job '{}': the interrupted full load cannot be resumed ({}); starting it over", job_.name,
                       fetched.message());
        }
      }
    }

    // Without steps or checks each part is written exactly once, so the source may stream it.
    single_scan_ = job_.steps.IsNull() && job_.checks.IsNull() && job_.mode != "changes";
    connectors::RunContext run_context{ws_.clock(), scratch_.path / "work", ctx_.run_id, single_scan_};
    run_context.snapshot = ctx_.source_snapshot;
    std::error_code ec;
    fs::create_directories(run_context.work_dir, ec);
    if (ec) return Status::IoError("cannot create '{}': {}", run_context.work_dir.string(), ec.message());

    SLUICE_ASSIGN_OR_RETURN(auto reader, source->Open(checkpoint, run_context));
    if (pending_ && !checkpoint.resume_token.empty() && reader->Resuming()) AdoptPendingChunks();
    bool resumable = plan.snapshot && (job_.steps.IsNull() || ctx_.snapshot_copy) && job_.checks.IsNull();
    if (ctx_.listener) ctx_.listener->OnJobStart(job_.name, reader->PendingSummary());
    if (reader->NothingToRead()) {
      summary_.status = "no_changes";
      summary_.message = fmt::format("no new input ({})", plan.description);
      return Status::OK();
    }
    summary_.window = reader->WindowRead();
    if (job_.on_error == "quarantine" && plan.connector != "files") {
      spdlog::warn("job '{}': the {} source cannot set rows aside; malformed input fails the run", job_.name,
                   plan.connector);
    }

    SLUICE_ASSIGN_OR_RETURN(auto connection, ws_.engine().Connect());
    ScopedInterruptAttach interruptible(ctx_.interrupt, *connection);
    SLUICE_TRY(Interrupted());
    SLUICE_TRY(BindTargetCurrent(*connection));
    std::string relation = "source_" + job_.name;
    bool metadata_columns = true;
    if (const auto* add = job_.target.raw.Find("add_metadata_columns")) {
      SLUICE_ASSIGN_OR_RETURN(metadata_columns, add->AsBool());
    }
    std::vector<std::pair<std::string, std::string>> fixed_partitions;
    if (job_.target.zone == "raw") {
      fixed_partitions.emplace_back("_load_date", FormatDateUtc(loaded_at_));
      partition_columns_.push_back("_load_date");
    }
    for (const auto& c : plan_.partition_by) partition_columns_.push_back(c);

    // mode: changes — each part is diffed against the key → hash index of the last commit.
    std::unique_ptr<ChangeDetector> changes;
    if (job_.mode == "changes") {
      SLUICE_ASSIGN_OR_RETURN(changes, StartChangeDetection(*connection, *reader, scratch_.path));
      if (changes->CanDiffKeysFirst()) {
        // Keys and hashes of every row first; then only the changed rows travel.
        std::string key_hashes = relation + "_key_hashes";
        SLUICE_TRY(reader->ReadKeyHashes(*connection, key_hashes));
        SLUICE_ASSIGN_OR_RETURN(auto changed_keys, changes->DiffKeys(key_hashes));
        SLUICE_TRY(reader->RestrictToKeys(*connection, changed_keys));
      }
    }
    auto stage_with_metadata = [&](const std::string& part_relation, int part) -> Status {
      SLUICE_ASSIGN_OR_RETURN(auto with_metadata,
                              SelectWithMetadata(*connection, part_relation, metadata_columns, loaded_at_));
      std::string view = SqlIdent(fmt::format("{}_part", relation));
      SLUICE_TRY(connection->Execute(fmt::format("CREATE OR REPLACE TEMP VIEW {} AS {}", view, with_metadata)));
      return StagePart(*connection, view, part, data_prefix, fixed_partitions);
    };
    int part = 0;
    for (;; ++part) {
      SLUICE_TRY(Interrupted());
      connectors::ReadState read_state;
      {
        ProgressPoller poller(*connection, ctx_.listener, job_.name, reader->PendingBytes());
        SLUICE_ASSIGN_OR_RETURN(read_state, reader->Read(*connection, relation));
        std::string part_relation = relation;
        if (changes) {
          SLUICE_ASSIGN_OR_RETURN(part_relation, changes->DiffPart(relation));
        }
        SLUICE_ASSIGN_OR_RETURN(auto after_part, reader->PartConsumed(stage_with_metadata(part_relation, part)));
        if (after_part == connectors::ReadState::kFinished) read_state = after_part;
      }
      if (read_state == connectors::ReadState::kFinished) break;
      if (std::string token = reader->ResumeToken(); resumable && !token.empty()) SLUICE_TRY(RecordPendingChunks(token));
    }
    if (changes) {
      // Delete markers, "no changes", and the new index, staged to be published with the data.
      SLUICE_ASSIGN_OR_RETURN(auto deleted, changes->FinishDeletes());
      if (!deleted.empty()) SLUICE_TRY(stage_with_metadata(deleted, part + 1));
      summary_.message = fmt::format("{} inserted, {} updated, {} deleted", changes->inserts(), changes->updates(),
                                     changes->deletes());
      if (changes->changes() == 0) {
        summary_.status = "no_changes";
        summary_.message = fmt::format("no changes in {} rows ({})", changes->index_rows(), plan.description);
        return Status::OK();
      }
      connectors::StagedFile index;
      index.local = scratch_.path / "change_index.parquet";
      index.key = ChangeIndexKey(ctx_.pipeline.name, job_.name, ctx_.run_id);
      index.rows = changes->index_rows();
      SLUICE_TRY(changes->WriteIndex(index.local));
      new_index_ = index;
      index_hash_kind_ = changes->hash_kind();
    }

    SLUICE_TRY(rejects_->SetAsideUnreadable(*connection, *reader, job_.on_error));
    summary_.rows_rejected = rejects_->rows();
    summary_.rows_read = summary_.rows_written + summary_.rows_rejected - adopted_rows_;
    if (adopted_rows_ > 0) {
      summary_.message = fmt::format("resumed the full load of run {}: {} rows kept from its chunks, {} read now",
                                     pending_->run_id, adopted_rows_, summary_.rows_read);
    }
    if (changes) summary_.rows_read = changes->index_rows();  // every current row of the source was read
    SLUICE_TRY(Audit(*connection));

    catalog::CommitRequest commit = NewCommit();
    bool replace_all = ctx_.full_refresh || plan.snapshot || plan_.write == "overwrite";
    commit.tables.push_back(OutputChange(replace_all, plan.description));
    if (!job_.mask.IsNull()) {
      std::string masked_prefix = job_.target.zone == "raw"
                                      ? layout_.DataPrefix("masked", plan.is_incremental ? "incremental" : "full")
                                      : layout_.Root() + "/masked";
      SLUICE_ASSIGN_OR_RETURN(auto masked, MaskedVariant(*connection, masked_prefix, fixed_partitions, replace_all));
      commit.tables.push_back(std::move(masked));
    }
    SLUICE_TRY(rejects_->AddToCommit(&commit));
    auto new_checkpoint = reader->NewCheckpoint();
    for (const auto& c : new_checkpoint.consumed) {
      commit.loaded_files.push_back({scope_, c.path, c.size, c.mtime_us, c.content_hash});
    }
    if (new_checkpoint.state_json != "{}") commit.state.push_back({scope_, kSourceStateKey, new_checkpoint.state_json});
    if (ctx_.full_refresh) commit.forget_loaded_scopes.push_back(scope_);
    if (pending_ || pending_recorded_) commit.state.push_back({scope_, kPendingLoadKey, std::nullopt});
    for (const auto& extra : ctx_.commit_state) commit.state.push_back(extra);
    if (new_index_) {  // the index advances only with this commit
      commit.state.push_back({scope_, "change_index", ChangeIndexRef{new_index_->key, new_index_->rows, index_hash_kind_}.ToJson()});
    }
    return Publish(commit);
  }

  /// The target's current rows as `target_current`, for steps that combine them with the input (merge).
  Status BindTargetCurrent(engine::Connection& connection) {
    if (!existing_ || existing_->current_version == 0 || ctx_.full_refresh) return Status::OK();
    SLUICE_ASSIGN_OR_RETURN(auto scan, TableScanSql(ws_.catalog(), ws_.lake(), *existing_, std::nullopt, &ws_.query_cache()));
    return connection.Execute("CREATE OR REPLACE TEMP VIEW target_current AS " + scan);
  }

  transforms::StepContext NewStepContext(engine::Connection& connection) const {
    return transforms::StepContext{connection, ctx_.run_id, loaded_at_, summary_.table,
                                   existing_.has_value() && existing_->current_version > 0 && !ctx_.full_refresh,
                                   MaskKey()};
  }

  /// A condition selecting the output partitions the steps put the rows of `relation` (the new
  /// input) in: per column an IN list (pushed down to the scans), and the exact combinations.
  Result<std::string> AffectedPartitions(engine::Connection& connection, const std::string& relation) {
    transforms::StepContext step_context = NewStepContext(connection);
    std::vector<std::string> ignored_rejects;  // the recomputation sets them aside
    SLUICE_ASSIGN_OR_RETURN(auto shaped, chain_.Apply(step_context, relation, fmt::format("affected_{}", job_.name),
                                                      &ignored_rejects));
    SLUICE_ASSIGN_OR_RETURN(auto columns, connection.Describe("SELECT * FROM " + shaped));
    std::vector<std::string> types, as_text;
    for (const auto& p : plan_.partition_by) {
      auto c = std::find_if(columns.begin(), columns.end(), [&](const auto& d) { return d.name == p; });
      if (c == columns.end()) {
        return Status::Invalid("partition column '{}' of {} is not in the output of job '{}'", p, summary_.table,
                               job_.name);
      }
      types.push_back(c->type);
      as_text.push_back(fmt::format("CAST({} AS VARCHAR) AS {}", SqlIdent(p), SqlIdent(p)));
    }
    SLUICE_ASSIGN_OR_RETURN(auto partitions,
                            connection.Query(fmt::format("SELECT DISTINCT {} FROM {}", Join(as_text, ", "), shaped)));
    if (partitions.rows.empty()) return std::string("false");
    std::vector<std::set<std::string>> per_column(plan_.partition_by.size());
    std::vector<bool> has_null(plan_.partition_by.size(), false);
    std::vector<std::string> combinations;
    for (size_t r = 0; r < partitions.rows.size(); ++r) {
      std::vector<std::string> terms;
      for (size_t c = 0; c < plan_.partition_by.size(); ++c) {
        std::string column = SqlIdent(plan_.partition_by[c]);
        const auto& value = partitions.rows[r][c];
        if (!value) {
          has_null[c] = true;
          terms.push_back(column + " IS NULL");
          continue;
        }
        std::string literal = fmt::format("CAST({} AS {})", SqlQuote(*value), types[c]);
        per_column[c].insert(literal);
        terms.push_back(fmt::format("{} = {}", column, literal));
      }
      combinations.push_back("(" + Join(terms, " AND ") + ")");
    }
    std::vector<std::string> condition;
    for (size_t c = 0; c < plan_.partition_by.size(); ++c) {
      std::string column = SqlIdent(plan_.partition_by[c]);
      std::vector<std::string> alternatives;
      if (!per_column[c].empty()) {
        alternatives.push_back(fmt::format("{} IN ({})", column,
                                           Join(std::vector<std::string>(per_column[c].begin(), per_column[c].end()), ", ")));
      }
      if (has_null[c]) alternatives.push_back(column + " IS NULL");
      condition.push_back("(" + Join(alternatives, " OR ") + ")");
    }
    if (plan_.partition_by.size() > 1) condition.push_back("(" + Join(combinations, " OR ") + ")");
    summary_.message = fmt::format("recomputed {} partition{}", partitions.rows.size(),
                                   partitions.rows.size() == 1 ? "" : "s");
    return Join(condition, " AND ");
  }

  /// Steps → schema decision → quarantine → staged Parquet, for one part of the input.
  Status StagePart(engine::Connection& connection, const std::string& relation, int part,
                   const std::string& data_prefix, const std::vector<std::pair<std::string, std::string>>& fixed) {
    transforms::StepContext step_context = NewStepContext(connection);
    std::vector<std::string> rejects;
    SLUICE_ASSIGN_OR_RETURN(auto shaped,
                            chain_.Apply(step_context, relation, fmt::format("step_{}_{}", job_.name, part), &rejects));
    if (!output_filter_.empty()) {  // overwrite_partitions: only the partitions being replaced
      std::string view = SqlIdent(fmt::format("step_{}_{}_affected", job_.name, part));
      SLUICE_TRY(connection.Execute(
          fmt::format("CREATE OR REPLACE TEMP VIEW {} AS SELECT * FROM {} WHERE {}", view, shaped, output_filter_)));
      shaped = view;
    }
    SLUICE_ASSIGN_OR_RETURN(auto columns, connection.Describe("SELECT * FROM " + shaped));
    std::optional<catalog::TableInfo> known = ctx_.full_refresh || plan_.write == "overwrite" ? std::nullopt : existing_;
    if (schema_) {
      if (!known) known = catalog::TableInfo{};
      known->name = table_name_;
      known->schema = *schema_;
    }
    auto decision = DecideSchema(known, columns, partition_columns_, policy_);
    if (!decision.ok()) return decision.status();
    schema_ = WithTableFieldIds(existing_, decision->schema);
    auto [fitting, unfit] = QuarantineSelects(shaped, *decision);
    if (!unfit.empty() && single_scan_) {
      // Setting rows aside reads the part twice; a part the source streams must be held first.
      std::string held = SqlIdent(fmt::format("held_{}_{}", job_.name, part));
      SLUICE_TRY(connection.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS SELECT * FROM {}", held, shaped)));
      shaped = held;
      std::tie(fitting, unfit) = QuarantineSelects(shaped, *decision);
    }
    std::string output = fitting.empty() ? shaped : "(" + fitting + ")";
    if (!unfit.empty()) rejects.push_back(unfit);
    last_output_ = output;

    connectors::LakeWriteRequest write;
    write.select_sql = "SELECT * FROM " + checks_.Kept(output);
    write.staging_dir = scratch_.path / "data" / fmt::format("part-{:05d}", part);
    write.data_prefix = data_prefix;
    write.fixed_partitions = fixed;
    write.partition_by = plan_.partition_by;
    if (plan_.target_file_bytes) write.target_file_bytes = *plan_.target_file_bytes;
    write.file_prefix = fmt::format("part-{}-{:05d}", ctx_.run_id, part);
    write.unordered = single_scan_;
    write.field_ids = ParquetFieldIds(*schema_);
    SLUICE_ASSIGN_OR_RETURN(auto files, connectors::WriteParquetToStaging(connection, write));
    for (auto& f : files) {
      summary_.rows_written += f.rows;
      summary_.bytes_written += f.bytes;
      staged_.push_back(std::move(f));
    }
    summary_.files_written = static_cast<int64_t>(staged_.size());

    int n = 0;
    for (const auto& select : rejects) {
      SLUICE_TRY(StageRejects(connection, select, fmt::format("{}-{}", part, n++)).status());
    }
    if (std::string quarantined = checks_.Quarantined(output); !quarantined.empty()) {
      SLUICE_ASSIGN_OR_RETURN(auto files, StageRejects(connection, quarantined, fmt::format("{}-checks", part)));
      quarantined_.insert(quarantined_.end(), files.begin(), files.end());
    }
    SLUICE_FAULT_POINT("part_staged");
    return Status::OK();
  }

  /// Rows set aside (by a step, the schema policy or a quarantining check) → staged <table>__rejects files.
  Result<std::vector<connectors::StagedFile>> StageRejects(engine::Connection& connection, const std::string& select,
                                                           const std::string& name) {
    SLUICE_ASSIGN_OR_RETURN(auto files, rejects_->Stage(connection, select, name));
    summary_.rows_rejected = rejects_->rows();
    return files;
  }

  void StartRejects() {
    rejects_.emplace(ws_.catalog(), ctx_.run_id, scratch_.path / "rejects", layout_, summary_.table, loaded_at_);
  }

  /// The `mask:` variant of what this run staged: the same rows with the chosen columns protected,
  /// staged under the table's masked/ prefix as the table <table>__masked and published by the same
  /// commit, so the two never disagree. It reads the staged files, not the source a second time.
  Result<catalog::TableChange> MaskedVariant(engine::Connection& connection, const std::string& masked_prefix,
                                             const std::vector<std::pair<std::string, std::string>>& fixed,
                                             bool replace_all) {
    SLUICE_ASSIGN_OR_RETURN(auto masks, transforms::ParseColumnMasks(job_.mask, fmt::format("mask: of job '{}'", job_.name)));
    catalog::TableChange change;
    change.table = catalog::TableName{job_.target.zone, job_.target.table + "__masked"};
    change.operation = replace_all ? catalog::WriteOperation::kOverwrite : catalog::WriteOperation::kAppend;
    change.remove_all_current = replace_all;
    change.location = masked_prefix;
    change.source = fmt::format("{} with columns masked", summary_.table);
    change.partition_columns = partition_columns_;
    if (staged_.empty()) return change;
    // Fixed partitions (_load_date) live in the key, not in the files: read them back out of the rows.
    std::vector<std::string> fixed_columns;
    for (const auto& [column, value] : fixed) fixed_columns.push_back(SqlIdent(column));
    std::string view = SqlIdent(fmt::format("masked_source_{}", job_.name));
    SLUICE_TRY(connection.Execute(fmt::format(
        "CREATE OR REPLACE TEMP VIEW {} AS SELECT *{} FROM {}", view,
        fixed_columns.empty() ? "" : fmt::format(" EXCLUDE ({})", Join(fixed_columns, ", ")), StagedScan(staged_))));
    auto masked_sql = transforms::MaskedSelect(connection, view, masks, MaskKey());
    if (!masked_sql.ok()) return masked_sql.status().WithContext("{}: mask: of job '{}'", job_.mask.location().ToString(), job_.name);

    SLUICE_ASSIGN_OR_RETURN(auto columns, connection.Describe(*masked_sql));
    SLUICE_ASSIGN_OR_RETURN(auto existing, ws_.catalog().GetTable(change.table));
    SLUICE_ASSIGN_OR_RETURN(auto decision, DecideSchema(replace_all ? std::nullopt : existing, columns,
                                                        partition_columns_, SchemaChangePolicy::kEvolve));
    change.schema = WithTableFieldIds(existing, decision.schema);

    connectors::LakeWriteRequest write;
    write.select_sql = *masked_sql;
    write.staging_dir = scratch_.path / "masked";
    write.data_prefix = masked_prefix;
    write.fixed_partitions = fixed;
    write.partition_by = plan_.partition_by;
    if (plan_.target_file_bytes) write.target_file_bytes = *plan_.target_file_bytes;
    write.file_prefix = fmt::format("part-{}-masked", ctx_.run_id);
    write.field_ids = ParquetFieldIds(change.schema);
    SLUICE_ASSIGN_OR_RETURN(auto files, connectors::WriteParquetToStaging(connection, write));
    for (const auto& f : files) change.added.push_back({f.key, f.rows, f.bytes, f.partition_values, 0, f.column_stats});
    masked_.insert(masked_.end(), files.begin(), files.end());
    return change;
  }

  /// masking.key of sluice.yaml ("" when unset: hash masks then fail with a message saying where to set it).
  Secret MaskKey() const {
    const auto* key = ws_.project().masking.Find("key");
    return Secret(key != nullptr && key->IsScalar() ? key->scalar() : "");
  }

  /// Write-audit-publish: the checks read the staged files, exactly what the commit would publish.
  Status Audit(engine::Connection& connection) {
    std::string output = staged_.empty() ? fmt::format("(SELECT * FROM {} LIMIT 0)", last_output_) : StagedScan(staged_);
    std::string quarantined = quarantined_.empty() ? "" : StagedScan(quarantined_);
    return checks_.Audit(connection, output, quarantined, summary_.table, loaded_at_, &summary_.checks);
  }

  int64_t ReadVersion() const { return existing_ ? existing_->current_version : 0; }

  catalog::CommitRequest NewCommit() const { return NewJobCommit(ctx_, job_); }

  /// append adds files; overwrite (or a rebuild) replaces every current file; overwrite_partitions
  /// replaces the current files of each partition the run wrote.
  catalog::TableChange OutputChange(bool replace_all, const std::string& source) const {
    catalog::TableChange change;
    change.table = table_name_;
    bool by_partition = plan_.write == "overwrite_partitions";
    change.operation = replace_all || by_partition ? catalog::WriteOperation::kOverwrite : catalog::WriteOperation::kAppend;
    change.remove_all_current = replace_all;
    // Replacing files is only right against the version they were read from; appends commute.
    if (change.operation == catalog::WriteOperation::kOverwrite) change.expected_version = ReadVersion();
    change.location = layout_.Root();
    change.source = source;
    change.partition_columns = partition_columns_;
    if (schema_) change.schema = *schema_;
    for (const auto& f : staged_) change.added.push_back({f.key, f.rows, f.bytes, f.partition_values, 0, f.column_stats});
    return change;
  }

  /// A resumed load: the chunks of the interrupted run(s) count as this run's first parts; they
  /// keep their _load_date, and so do the parts read now.
  void AdoptPendingChunks() {
    for (const auto& f : pending_->files) {
      in_lake_.insert(f.key);
      staged_.push_back(f);
      summary_.rows_written += f.rows;
      summary_.bytes_written += f.bytes;
    }
    summary_.files_written = static_cast<int64_t>(staged_.size());
    adopted_rows_ = pending_->rows();
    loaded_at_ = FromUnixMicros(pending_->loaded_at_us);
    rejects_->set_loaded_at(loaded_at_);
    spdlog::info("job '{}': resuming the full load of run {} after {} rows in {} chunks", job_.name, pending_->run_id,
                 adopted_rows_, pending_->files.size());
  }

  /// Uploads the parts staged so far and records them, with where the source carries on, as the
  /// job's pending load: not visible data, but what a run after a crash resumes from.
  Status RecordPendingChunks(const std::string& resume_token) {
    SLUICE_TRY(connectors::UploadStaged(ws_.lake(), NotInLake(staged_)));
    for (const auto& f : staged_) in_lake_.insert(f.key);
    PendingLoad load;
    load.resume_token = resume_token;
    load.run_id = adopted_rows_ > 0 ? pending_->run_id : ctx_.run_id;
    load.loaded_at_us = ToUnixMicros(loaded_at_);
    load.files = staged_;
    catalog::CommitRequest commit = NewCommit();
    commit.state.push_back({scope_, kPendingLoadKey, load.ToJson()});
    SLUICE_TRY(ws_.catalog().Commit(commit).status());
    SLUICE_FAULT_POINT("chunk_committed");
    pending_recorded_ = true;
    return Status::OK();
  }

  std::vector<connectors::StagedFile> NotInLake(const std::vector<connectors::StagedFile>& files) const {
    std::vector<connectors::StagedFile> fresh;
    for (const auto& f : files) {
      if (in_lake_.count(f.key) == 0) fresh.push_back(f);
    }
    return fresh;
  }

  /// Uploads the staged files and commits data, rejects and state in one transaction.
  Status Publish(catalog::CommitRequest& commit) {
    // Chunks of a pending load are in the lake already, and stay there if this commit fails.
    SLUICE_FAULT_POINT("after_stage");
    uploaded_ = NotInLake(staged_);
    SLUICE_TRY(connectors::UploadStaged(ws_.lake(), uploaded_));
    SLUICE_TRY(connectors::UploadStaged(ws_.lake(), rejects_->files()));
    uploaded_.insert(uploaded_.end(), rejects_->files().begin(), rejects_->files().end());
    SLUICE_TRY(connectors::UploadStaged(ws_.lake(), masked_));
    uploaded_.insert(uploaded_.end(), masked_.begin(), masked_.end());
    if (new_index_) {
      SLUICE_TRY(connectors::UploadStaged(ws_.lake(), {*new_index_}));
      uploaded_.push_back(*new_index_);
    }
    SLUICE_FAULT_POINT("after_upload");

    SLUICE_TRY(Interrupted());  // the last moment a timeout or cancellation keeps the run unpublished
    auto committed = ws_.catalog().Commit(commit);
    if (!committed.ok()) return LostRaceOr(committed.status());
    const auto& result = *committed;
    uploaded_.clear();  // published: no longer ours to discard
    SLUICE_FAULT_POINT("after_commit");
    if (new_index_ && !previous_index_.key.empty()) {
      Status removed = ws_.lake().Delete(previous_index_.key);
      if (!removed.ok()) spdlog::warn("job '{}': could not remove the old change index: {}", job_.name, removed.message());
    }
    summary_.table_version = result.versions.empty() ? 0 : result.versions.front();
    summary_.status = "succeeded";
    if (summary_.rows_rejected > 0) {
      summary_.message = fmt::format("{} rows set aside in {}__rejects", summary_.rows_rejected, summary_.table);
    }
    return Status::OK();
  }

  /// A commit refused because the target moved on since this job read it (an overwrite, merge or
  /// partition overwrite would lose what landed meanwhile): says so, and lets RunJob plan again.
  Status LostRaceOr(const Status& failed) {
    if (failed.code() != StatusCode::kConflict) return failed;
    lost_race_ = true;
    auto now = ws_.catalog().GetTable(table_name_);
    std::string current = now.ok() && *now ? std::to_string((*now)->current_version) : "?";
    return Status::Conflict("table {} changed while the job ran (version {} → {}); nothing was published",
                            summary_.table, ReadVersion(), current);
  }

  /// mode: changes: loads the index the last commit referenced (none after --full-refresh).
  Result<std::unique_ptr<ChangeDetector>> StartChangeDetection(engine::Connection& connection,
                                                                connectors::SourceReader& reader, const fs::path& scratch) {
    ChangeIndexRef* previous = &previous_index_;
    std::optional<fs::path> local;
    if (!ctx_.full_refresh) {
      SLUICE_ASSIGN_OR_RETURN(auto state, ws_.catalog().GetState(scope_, "change_index"));
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
    options.previous_hash_kind = previous->hash_kind;
    SLUICE_ASSIGN_OR_RETURN(auto hashing,
                            reader.StartRowHashing(connectors::RowHashRequest{options.primary_key, options.ignore_columns}));
    options.source_hash_kind = hashing.kind;
    options.source_keys_unique = hashing.unique_keys;
    options.table_prefix = "changes_" + job_.name;
    options.where = fmt::format("job '{}' of pipeline '{}'", job_.name, ctx_.pipeline.name);
    return ChangeDetector::Start(connection, std::move(options), local);
  }

  Status Interrupted() const { return ctx_.interrupt != nullptr ? ctx_.interrupt->reason() : Status::OK(); }

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
    std::string loaded_at_sql = SqlTimestampLiteral(loaded_at);
    if (!metadata_columns) {
      return fmt::format("SELECT *{} FROM {}", has_source_file ? " EXCLUDE (_source_file)" : "", SqlIdent(relation));
    }
    if (has_loaded_at) {
      return fmt::format("SELECT * REPLACE ({} AS _loaded_at) FROM {}", loaded_at_sql, SqlIdent(relation));
    }
    return fmt::format("SELECT *, {} AS _loaded_at FROM {}", loaded_at_sql, SqlIdent(relation));
  }

  JobRunContext& ctx_;
  const config::JobConfig& job_;
  Workspace& ws_;
  JobSummary summary_;
  TransformChain chain_;
  ChecksRunner checks_;
  SchemaChangePolicy policy_ = SchemaChangePolicy::kFail;
  transforms::WritePlan plan_;
  catalog::TableName table_name_;
  std::optional<catalog::TableInfo> existing_;
  std::optional<catalog::Schema> schema_;  // the table's schema after the parts staged so far
  std::string scope_;
  ScratchFolder scratch_;
  TimePoint loaded_at_;
  storage::TableLayout layout_;
  std::vector<std::string> partition_columns_;
  std::string last_output_;
  std::string output_filter_;  // overwrite_partitions of new input: WHERE condition naming the partitions recomputed
  std::optional<RejectsWriter> rejects_;
  std::vector<connectors::StagedFile> staged_, quarantined_, masked_;
  std::vector<connectors::StagedFile> uploaded_;
  std::optional<PendingLoad> pending_;  // a snapshot load interrupted earlier (resumed or started over)
  std::set<std::string> in_lake_;        // keys of staged_ already uploaded as chunks of a pending load
  int64_t adopted_rows_ = 0;             // rows of the resumed load's earlier chunks (not read by this run)
  bool pending_recorded_ = false;
  bool lost_race_ = false;  // the commit found the target at another version than the one read
  ChangeIndexRef previous_index_;                   // mode: changes: the index the last commit referenced
  std::string index_hash_kind_;                     // mode: changes: the kind of hash new_index_ holds
  bool single_scan_ = false;  // the source was told it may stream each part (RunContext::single_scan)
  std::optional<connectors::StagedFile> new_index_;  // mode: changes: this run's index, published with the data
};

}  // namespace

std::string JobStateScope(const std::string& pipeline, const std::string& job) { return pipeline + "/" + job; }

Result<connectors::Checkpoint> LoadCheckpoint(catalog::MetadataStore& catalog, const std::string& scope) {
  connectors::Checkpoint checkpoint;
  SLUICE_ASSIGN_OR_RETURN(auto loaded, catalog.LoadedFiles(scope));
  for (const auto& f : loaded) checkpoint.consumed.push_back({f.path, f.size, f.mtime_us, f.content_hash});
  SLUICE_ASSIGN_OR_RETURN(auto state, catalog.GetState(scope, kSourceStateKey));
  if (state) checkpoint.state_json = *state;
  return checkpoint;
}

catalog::CommitRequest NewJobCommit(const JobRunContext& context, const config::JobConfig& job) {
  catalog::CommitRequest commit;
  commit.run_id = RunId{context.run_id};
  commit.pipeline = context.pipeline.name;
  commit.job = job.name;
  return commit;
}

JobSummary TimedJob(JobRunContext& context, const config::JobConfig& job, JobSummary* summary,
                    const std::function<Status()>& execute, const std::vector<connectors::StagedFile>* uploaded) {
  auto started = std::chrono::steady_clock::now();
  Status st = execute();
  summary->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!st.ok()) {
    // An interrupted statement fails with the engine's generic error; the reason is ours.
    if (context.interrupt != nullptr && !context.interrupt->reason().ok()) st = context.interrupt->reason();
    summary->retryable = st.retryable();
    if (!uploaded->empty()) connectors::DiscardUploaded(context.workspace.lake(), *uploaded);
    summary->status = "failed";
    summary->message = context.workspace.Redact(
        st.WithContext("job '{}' of pipeline '{}'", job.name, context.pipeline.name).message());
    spdlog::error("{}", summary->message);
  }
  return *summary;
}

Result<const config::Value*> FindConnection(const Workspace& workspace, const std::string& name,
                                            const std::string& where) {
  const auto& connections = workspace.project().connections;
  if (const auto* connection = connections.Find(name)) return connection;
  std::string hint = NearestWord(name, connections.Keys());
  return Status::Invalid("{}: connection '{}' is not defined under connections: in sluice.yaml{}", where, name,
                         hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint));
}

std::string JobTargetLabel(const config::JobConfig& job) {
  if (job.sql) return job.sql->connection;
  if (job.target.IsLake()) return job.target.zone + "." + job.target.table;
  return (job.target.connection.empty() ? job.target.type : job.target.connection) + ": " + job.target.table;
}

Status SinkTargetLimits(const config::JobConfig& job) {
  if (job.target.IsLake()) return Status::OK();
  auto refuse = [&](const char* key, const char* instead) {
    return Status::Invalid("{}: job '{}' writes outside the lake, where {}: does not apply yet; {}",
                           job.raw.KeyLocation(key).ToString(), job.name, key, instead);
  };
  if (!job.checks.IsNull()) return refuse("checks", "check the written table with a sql: job that fails on bad rows");
  if (!job.mask.IsNull()) return refuse("mask", "mask the columns with a - mask: step instead");
  if (job.mode == "changes") return refuse("mode", "load the changed rows into the lake, then merge them into the database");
  if (job.mode == "cdc") return refuse("mode", "capture the changes into the lake, then merge them into the database");
  return Status::OK();
}

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
    SLUICE_ASSIGN_OR_RETURN(const auto* conn,
                            FindConnection(workspace, resolved.connection_name, connection->location().ToString()));
    SLUICE_ASSIGN_OR_RETURN(type, conn->Find("type")->AsString());
    for (const auto& [k, v] : conn->entries()) {
      if (k != "type") entries.emplace_back(k, v);
    }
  } else if (const auto* t = source.Find("type")) {
    SLUICE_ASSIGN_OR_RETURN(type, t->AsString());
  } else if (source.Find("table") != nullptr) {
    return Status::Invalid("{} reads catalog tables (table:); it has no connector to resolve", where);
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

Status ValidateJob(const Workspace& workspace, const config::PipelineConfig& pipeline, const config::JobConfig& job) {
  if (job.sql) return ValidateSqlJob(workspace, pipeline, job);
  if (!ReadsCatalogTables(job)) SLUICE_TRY(BindJobSource(workspace, pipeline, job).status());
  if (!job.target.IsLake()) {
    SLUICE_TRY(SinkTargetLimits(job));
    SLUICE_TRY(BindJobSink(workspace, pipeline, job).status());
  }
  SLUICE_TRY(TransformChain::Build(job, pipeline.name).status());
  if (!job.mask.IsNull()) {
    SLUICE_TRY(transforms::ParseColumnMasks(job.mask, fmt::format("mask: of job '{}'", job.name)).status());
  }
  return ChecksRunner::Build(job, pipeline.name).status();
}

JobSummary RunJob(JobRunContext& context, const config::JobConfig& job) {
  if (job.sql) return RunSqlJob(context, job);
  if (job.mode == "cdc" && job.target.IsLake()) return RunCdcJob(context, job);
  if (!job.target.IsLake()) {
    if (Status limits = SinkTargetLimits(job); !limits.ok()) {
      JobSummary refused;
      refused.job = job.name;
      refused.table = JobTargetLabel(job);
      refused.status = "failed";
      refused.message = limits.message();
      return refused;
    }
    return RunSinkJob(context, job);
  }
  // A job that lost the race to its target is planned again on the new version: nothing of it
  // was published and its source state did not advance, so a fresh attempt is safe.
  constexpr int kAttemptsAfterLostRace = 3;
  for (int attempt = 1;; ++attempt) {
    JobExecution execution(context, job);
    JobSummary summary = execution.Run();
    if (!execution.lost_race()) return summary;
    if (attempt == kAttemptsAfterLostRace) {
      summary.message += fmt::format(" — {} attempts in a row lost the race to another writer; run the job again, and "
                                     "check `sluice validate` for other jobs writing {}",
                                     attempt, summary.table);
      return summary;
    }
    spdlog::warn("{}; planning the job again on the new version", summary.message);
  }
}

}  // namespace sluice::pipeline
