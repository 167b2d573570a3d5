#include <spdlog/spdlog.h>

#include "common/fault_point.hpp"
#include "pipeline/job_execution.hpp"

namespace sluice::pipeline {

catalog::TableChange JobExecution::OutputChange(bool replace_all, const std::string& source) const {
  catalog::TableChange change;
  change.table = table_name_;
  bool by_partition = plan_.write == config::WriteMode::kOverwritePartitions;
  change.operation =
      replace_all || by_partition ? catalog::WriteOperation::kOverwrite : catalog::WriteOperation::kAppend;
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

Status JobExecution::PublishIngest(engine::Connection& connection, const connectors::SourceReader& reader,
                                   const connectors::SourcePlan& plan, const FixedPartitions& fixed) {
  catalog::CommitRequest commit = NewCommit();
  bool replace_all = ctx_.full_refresh || plan.snapshot || plan_.write == config::WriteMode::kOverwrite;
  commit.tables.push_back(OutputChange(replace_all, plan.description));
  if (!job_.mask.IsNull()) {
    std::string masked_prefix = job_.target.zone == "raw"
                                    ? layout_.DataPrefix("masked", plan.is_incremental ? "incremental" : "full")
                                    : layout_.Root() + "/masked";
    SLUICE_ASSIGN_OR_RETURN(auto masked, MaskedVariant(connection, masked_prefix, fixed, replace_all));
    commit.tables.push_back(std::move(masked));
  }
  SLUICE_TRY(rejects_->AddToCommit(&commit));
  auto new_checkpoint = reader.NewCheckpoint();
  for (const auto& c : new_checkpoint.consumed) {
    commit.loaded_files.push_back({scope_, c.path, c.size, c.mtime_us, c.content_hash});
  }
  if (new_checkpoint.state_json != "{}") commit.state.push_back({scope_, kSourceStateKey, new_checkpoint.state_json});
  if (ctx_.full_refresh) commit.forget_loaded_scopes.push_back(scope_);
  if (pending_ || pending_recorded_) commit.state.push_back({scope_, kPendingLoadKey, std::nullopt});
  for (const auto& extra : ctx_.commit_state) commit.state.push_back(extra);
  if (new_index_) {  // the index advances only with this commit
    commit.state.push_back(
        {scope_, "change_index", ChangeIndexRef{new_index_->key, new_index_->rows, index_hash_kind_}.ToJson()});
  }
  return Publish(commit);
}

std::vector<connectors::StagedFile> JobExecution::NotInLake(const std::vector<connectors::StagedFile>& files) const {
  std::vector<connectors::StagedFile> fresh;
  for (const auto& f : files) {
    if (in_lake_.count(f.key) == 0) fresh.push_back(f);
  }
  return fresh;
}

Status JobExecution::Publish(catalog::CommitRequest& commit) {
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

  SLUICE_TRY(Interrupted(ctx_.interrupt));  // the last moment a timeout or cancellation keeps the run unpublished
  auto committed = ws_.catalog().Commit(commit);
  if (!committed.ok()) return LostRaceOr(committed.status());
  const auto& result = *committed;
  uploaded_.clear();  // published: no longer ours to discard
  SLUICE_FAULT_POINT("after_commit");
  if (new_index_ && !previous_index_.key.empty()) {
    Status removed = ws_.lake().Delete(previous_index_.key);
    if (!removed.ok())
      spdlog::warn("job '{}': could not remove the old change index: {}", job_.name, removed.message());
  }
  summary_.table_version = result.versions.empty() ? 0 : result.versions.front();
  summary_.status = JobStatus::kSucceeded;
  if (summary_.rows_rejected > 0) {
    summary_.message = fmt::format("{} rows set aside in {}__rejects", summary_.rows_rejected, summary_.table);
  }
  return Status::OK();
}

Status JobExecution::LostRaceOr(const Status& failed) {
  if (failed.code() != StatusCode::kConflict) return failed;
  lost_race_ = true;
  auto now = ws_.catalog().GetTable(table_name_);
  std::string current = now.ok() && *now ? std::to_string((*now)->current_version) : "?";
  return Status::Conflict("table {} changed while the job ran (version {} → {}); nothing was published", summary_.table,
                          ReadVersion(), current);
}

}  // namespace sluice::pipeline
