#include "catalog/sqlite_metadata_store.hpp"

#include <algorithm>

#include "catalog/sqlite_connection.hpp"
#include "catalog/sqlite_rows.hpp"
#include "common/strings.hpp"

namespace sluice::catalog {

using sqlite::Statement;
using sqlite::Transaction;
using sqlite_rows::BindRun;
using sqlite_rows::kQueueColumns;
using sqlite_rows::ReadQueuedRun;
using sqlite_rows::ValidateRun;

namespace {

Status WriteTriggerState(sqlite::Connection& connection, const TriggerState& state, TimePoint now) {
  SLUICE_ASSIGN_OR_RETURN(auto upsert,
                          connection.Prepare("INSERT INTO trigger_state (pipeline, trigger_key, state_value, "
                                             "updated_at_us) VALUES (?, ?, ?, ?) ON CONFLICT (pipeline, trigger_key) "
                                             "DO UPDATE SET state_value = excluded.state_value, "
                                             "updated_at_us = excluded.updated_at_us"));
  SLUICE_TRY(upsert.BindAll(state.pipeline, state.trigger_key, state.state, ToUnixMicros(now)));
  return upsert.Run();
}

}  // namespace

Result<EnqueueResult> SqliteMetadataStore::EnqueueRun(const QueuedRun& run,
                                                      const std::optional<TriggerState>& trigger_state) {
  if (run.id.value.empty() || run.pipeline.empty() || run.trigger.empty()) {
    return Status::Invalid("a queued run needs an id, a pipeline and a trigger (got id '{}', pipeline '{}')", run.id,
                           run.pipeline);
  }
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(*connection_, "BEGIN IMMEDIATE"));
  EnqueueResult result{run.id, true};
  if (!run.dedup_key.empty()) {
    SLUICE_ASSIGN_OR_RETURN(auto existing, connection_->Prepare("SELECT queue_id FROM run_queue "
                                                                "WHERE pipeline = ? AND dedup_key = ?"));
    SLUICE_TRY(existing.BindAll(run.pipeline, run.dedup_key));
    SLUICE_ASSIGN_OR_RETURN(bool found, existing.Step());
    if (found) result = EnqueueResult{RunId{existing.Text(0)}, false};
  }
  if (result.created) {
    SLUICE_ASSIGN_OR_RETURN(
        auto insert, connection_->Prepare("INSERT INTO run_queue (queue_id, pipeline, trigger_kind, dedup_key, "
                                          "detail, enqueued_at_us, not_before_us, attempt, queue_state, "
                                          "full_refresh, only_job) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)"));
    SLUICE_TRY(insert.BindAll(run.id, run.pipeline, run.trigger, run.dedup_key, run.detail,
                              ToUnixMicros(run.enqueued_at), ToUnixMicros(run.not_before), run.attempt,
                              static_cast<int64_t>(run.full_refresh ? 1 : 0), run.only_job));
    SLUICE_TRY(insert.Run());
  }
  if (trigger_state) SLUICE_TRY(WriteTriggerState(*connection_, *trigger_state, clock_->Now()));
  SLUICE_TRY(transaction.Commit());
  return result;
}

Status SqliteMetadataStore::SaveTriggerState(const TriggerState& state) {
  std::lock_guard lock(mutex_);
  return WriteTriggerState(*connection_, state, clock_->Now());
}

Result<std::optional<std::string>> SqliteMetadataStore::GetTriggerState(const std::string& pipeline,
                                                                        const std::string& trigger_key) {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto query, connection_->Prepare("SELECT state_value FROM trigger_state "
                                                           "WHERE pipeline = ? AND trigger_key = ?"));
  SLUICE_TRY(query.BindAll(pipeline, trigger_key));
  SLUICE_ASSIGN_OR_RETURN(bool row, query.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(query.Text(0));
}

Result<std::optional<QueuedRun>> SqliteMetadataStore::ClaimQueuedRun(TimePoint now,
                                                                     const std::vector<std::string>& busy_pipelines) {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(*connection_, "BEGIN IMMEDIATE"));
  SLUICE_ASSIGN_OR_RETURN(auto query,
                          connection_->Prepare(fmt::format("SELECT {} WHERE queue_state = 'queued' AND not_before_us "
                                                           "<= ? ORDER BY not_before_us, enqueued_at_us, queue_id",
                                                           kQueueColumns)));
  SLUICE_TRY(query.BindAll(ToUnixMicros(now)));
  std::optional<QueuedRun> claimed;
  while (!claimed) {
    SLUICE_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    SLUICE_ASSIGN_OR_RETURN(auto run, ReadQueuedRun(query));
    if (std::find(busy_pipelines.begin(), busy_pipelines.end(), run.pipeline) == busy_pipelines.end()) {
      claimed = std::move(run);
    }
  }
  if (!claimed) return claimed;
  SLUICE_ASSIGN_OR_RETURN(auto update,
                          connection_->Prepare("UPDATE run_queue SET queue_state = 'claimed' WHERE queue_id = ?"));
  SLUICE_TRY(update.BindAll(claimed->id));
  SLUICE_TRY(update.Run());
  SLUICE_TRY(transaction.Commit());
  claimed->state = QueueState::kClaimed;
  return claimed;
}

Status SqliteMetadataStore::FinishQueuedRun(const RunId& id) {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto update,
                          connection_->Prepare("UPDATE run_queue SET queue_state = 'done' WHERE queue_id = ?"));
  SLUICE_TRY(update.BindAll(id));
  SLUICE_TRY(update.Run());
  if (connection_->Changes() == 0) return Status::NotFound("no queued run '{}' in catalog {}", id, Describe());
  return Status::OK();
}

Result<bool> SqliteMetadataStore::CancelQueuedRun(const RunRecord& cancelled) {
  SLUICE_TRY(ValidateRun(cancelled));
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(*connection_, "BEGIN IMMEDIATE"));
  SLUICE_ASSIGN_OR_RETURN(auto update, connection_->Prepare("UPDATE run_queue SET queue_state = 'done' "
                                                            "WHERE queue_id = ? AND queue_state = 'queued'"));
  SLUICE_TRY(update.BindAll(cancelled.id.value));
  SLUICE_TRY(update.Run());
  if (connection_->Changes() == 0) return false;
  SLUICE_TRY(InsertRunLocked(cancelled));
  SLUICE_TRY(transaction.Commit());
  return true;
}

Result<std::vector<QueuedRun>> SqliteMetadataStore::PendingQueue() {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(
      auto query, connection_->Prepare(fmt::format(
                      "SELECT {} WHERE queue_state <> 'done' ORDER BY enqueued_at_us, queue_id", kQueueColumns)));
  return query.ReadRows<QueuedRun>(ReadQueuedRun);
}

Result<std::optional<QueuedRun>> SqliteMetadataStore::GetQueuedRun(const std::string& id) {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto query, connection_->Prepare(fmt::format("SELECT {} WHERE queue_id = ?", kQueueColumns)));
  SLUICE_TRY(query.BindAll(id));
  SLUICE_ASSIGN_OR_RETURN(bool row, query.Step());
  if (!row) return std::optional<QueuedRun>();
  SLUICE_ASSIGN_OR_RETURN(auto run, ReadQueuedRun(query));
  return std::optional<QueuedRun>(std::move(run));
}

Result<int64_t> SqliteMetadataStore::PruneQueue(TimePoint before) {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto remove, connection_->Prepare("DELETE FROM run_queue WHERE queue_state = 'done' "
                                                            "AND enqueued_at_us < ?"));
  SLUICE_TRY(remove.BindAll(ToUnixMicros(before)));
  SLUICE_TRY(remove.Run());
  return static_cast<int64_t>(connection_->Changes());
}

}  // namespace sluice::catalog
