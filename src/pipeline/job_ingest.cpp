#include <spdlog/spdlog.h>

#include "common/fault_point.hpp"
#include "common/strings.hpp"
#include "pipeline/job_execution.hpp"
#include "pipeline/progress_poller.hpp"

namespace sluice::pipeline {
namespace fs = std::filesystem;
namespace {

/// mode: changes (pg): where a run's key → hash index goes in the lake, outside any table's files.
std::string ChangeIndexKey(const std::string& pipeline, const std::string& job, const RunId& run_id) {
  return fmt::format("{}{}/{}/{}.parquet", kChangeIndexPrefix, pipeline, job, run_id);
}

/// The part's rows plus _loaded_at (replacing an input column of that name), or without
/// _source_file when the target turned metadata columns off.
Result<std::string> SelectWithMetadata(engine::Connection& connection, const std::string& relation,
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

}  // namespace

Status JobExecution::ExecuteConnector() {
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
  if (plan.snapshot) SLUICE_TRY(LoadPendingLoad(&checkpoint));

  // Without steps or checks each part is written exactly once, so the source may stream it.
  single_scan_ = job_.steps.IsNull() && job_.checks.IsNull() && job_.mode != config::LoadMode::kChanges;
  connectors::RunContext run_context{ws_.clock(), scratch_.path / "work", ctx_.run_id, single_scan_};
  run_context.snapshot = ctx_.source_snapshot;
  std::error_code ec;
  fs::create_directories(run_context.work_dir, ec);
  if (ec) return Status::IoError("cannot create '{}': {}", run_context.work_dir.string(), ec.message());

  SLUICE_ASSIGN_OR_RETURN(auto reader, source->Open(checkpoint, run_context));
  const connectors::ResumableRead* resumable_read = reader->resumable();
  if (pending_ && !checkpoint.resume_token.empty() && resumable_read != nullptr && resumable_read->Resuming()) {
    AdoptPendingChunks();
  }
  bool resumable = plan.snapshot && (job_.steps.IsNull() || ctx_.snapshot_copy) && job_.checks.IsNull();
  if (ctx_.listener) ctx_.listener->OnJobStart(job_.name, reader->PendingSummary());
  if (reader->NothingToRead()) return NoNewInput(&summary_, plan.description);
  if (const auto* windowed = reader->windowed()) summary_.window = windowed->Window();
  if (job_.on_error == config::OnError::kQuarantine && reader->rejecting() == nullptr) {
    spdlog::warn("job '{}': the {} source cannot set rows aside; malformed input fails the run", job_.name,
                 plan.connector);
  }

  SLUICE_ASSIGN_OR_RETURN(auto connection, ws_.engine().Connect());
  ScopedInterruptAttach interruptible(ctx_.interrupt, *connection);
  SLUICE_TRY(Interrupted(ctx_.interrupt));
  SLUICE_TRY(BindTargetCurrent(*connection));
  std::string relation = "source_" + job_.name;
  bool metadata_columns = true;
  if (const auto* add = job_.target.raw.Find("add_metadata_columns")) {
    SLUICE_ASSIGN_OR_RETURN(metadata_columns, add->AsBool());
  }
  FixedPartitions fixed_partitions;
  if (job_.target.zone == "raw") {
    fixed_partitions.emplace_back("_load_date", FormatDateUtc(loaded_at_));
    partition_columns_.push_back("_load_date");
  }
  for (const auto& c : plan_.partition_by) partition_columns_.push_back(c);

  // mode: changes — each part is diffed against the key → hash index of the last commit.
  std::unique_ptr<ChangeDetector> changes;
  if (job_.mode == config::LoadMode::kChanges) {
    connectors::RowHashingRead* hashing_read = reader->row_hashing();
    SLUICE_ASSIGN_OR_RETURN(changes, StartChangeDetection(*connection, hashing_read, scratch_.path));
    if (hashing_read != nullptr && changes->CanDiffKeysFirst()) {
      // Keys and hashes of every row first; then only the changed rows travel.
      std::string key_hashes = relation + "_key_hashes";
      SLUICE_TRY(hashing_read->ReadKeyHashes(*connection, key_hashes));
      SLUICE_ASSIGN_OR_RETURN(auto changed_keys, changes->DiffKeys(key_hashes));
      SLUICE_TRY(hashing_read->RestrictToKeys(*connection, changed_keys));
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
    SLUICE_TRY(Interrupted(ctx_.interrupt));
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
    if (!resumable || resumable_read == nullptr) continue;
    if (std::string token = resumable_read->ResumeToken(); !token.empty()) SLUICE_TRY(RecordPendingChunks(token));
  }
  if (changes) {
    // Delete markers, "no changes", and the new index, staged to be published with the data.
    SLUICE_ASSIGN_OR_RETURN(auto deleted, changes->FinishDeletes());
    if (!deleted.empty()) SLUICE_TRY(stage_with_metadata(deleted, part + 1));
    summary_.message =
        fmt::format("{} inserted, {} updated, {} deleted", changes->inserts(), changes->updates(), changes->deletes());
    if (changes->changes() == 0) {
      summary_.status = JobStatus::kNoChanges;
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

  return PublishIngest(*connection, *reader, plan, fixed_partitions);
}

Status JobExecution::LoadPendingLoad(connectors::Checkpoint* checkpoint) {
  SLUICE_ASSIGN_OR_RETURN(pending_, PendingLoad::Load(ws_.catalog(), scope_));
  if (pending_ && (!ctx_.full_refresh || ctx_.snapshot_copy)) {
    Status fetched = pending_->Fetch(ws_.lake(), scratch_.path / "resumed");
    if (fetched.ok()) {
      checkpoint->resume_token = pending_->resume_token;
    } else {
      spdlog::warn("job '{}': the interrupted full load cannot be resumed ({}); starting it over", job_.name,
                   fetched.message());
    }
  }
  return Status::OK();
}

void JobExecution::AdoptPendingChunks() {
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

Status JobExecution::RecordPendingChunks(const std::string& resume_token) {
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

Result<std::unique_ptr<ChangeDetector>> JobExecution::StartChangeDetection(engine::Connection& connection,
                                                                           connectors::RowHashingRead* hashing_read,
                                                                           const fs::path& scratch) {
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
  options.mark_deletes = job_.deletes == config::DeleteHandling::kMark;
  options.ignore_columns = {"_source_file", "_loaded_at"};
  options.previous_hash_kind = previous->hash_kind;
  connectors::SourceRowHashing hashing;  // no kind: the pipeline hashes the rows it reads
  if (hashing_read != nullptr) {
    SLUICE_ASSIGN_OR_RETURN(hashing, hashing_read->StartRowHashing(
                                         connectors::RowHashRequest{options.primary_key, options.ignore_columns}));
  }
  options.source_hash_kind = hashing.kind;
  options.source_keys_unique = hashing.unique_keys;
  options.table_prefix = "changes_" + job_.name;
  options.where = fmt::format("job '{}' of pipeline '{}'", job_.name, ctx_.pipeline.name);
  return ChangeDetector::Start(connection, std::move(options), local);
}

}  // namespace sluice::pipeline
