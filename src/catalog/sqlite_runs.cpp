#include "catalog/sqlite_metadata_store.hpp"

#include <algorithm>

#include "catalog/sqlite_connection.hpp"
#include "catalog/sqlite_rows.hpp"
#include "common/strings.hpp"

namespace sluice::catalog {

using sqlite::Statement;
using sqlite::Transaction;
using sqlite_rows::BindRun;
using sqlite_rows::kRunColumns;
using sqlite_rows::ReadRun;
using sqlite_rows::ValidateRun;

Status SqliteMetadataStore::InsertRun(const RunRecord& run) {
  SLUICE_TRY(ValidateRun(run));
  std::lock_guard lock(mutex_);
  return InsertRunLocked(run);
}

Status SqliteMetadataStore::InsertRunLocked(const RunRecord& run) {
  SLUICE_ASSIGN_OR_RETURN(auto insert,
                          connection_->Prepare("INSERT INTO runs (run_id, pipeline, job_name, env, trigger_kind, "
                                               "status, started_at_us, finished_at_us, rows_read, rows_written, "
                                               "rows_rejected, bytes_written, files_written, error_message, "
                                               "details_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  SLUICE_TRY(BindRun(insert, run));
  Status status = insert.Run();
  if (status.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("run {} is already recorded in catalog {}; run ids must be unique", run.id.value,
                                 Describe());
  }
  return status;
}

Status SqliteMetadataStore::UpdateRun(const RunRecord& run) {
  SLUICE_TRY(ValidateRun(run));
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto update,
                          connection_->Prepare("UPDATE runs SET run_id = ?, pipeline = ?, job_name = ?, env = ?, "
                                               "trigger_kind = ?, status = ?, started_at_us = ?, finished_at_us = ?, "
                                               "rows_read = ?, rows_written = ?, rows_rejected = ?, "
                                               "bytes_written = ?, files_written = ?, error_message = ?, "
                                               "details_json = ? WHERE run_id = ?"));
  SLUICE_TRY(BindRun(update, run));
  SLUICE_TRY(update.Bind(15, run.id.value));
  SLUICE_TRY(update.Run());
  if (connection_->Changes() == 0) {
    return Status::NotFound("run {} is not in catalog {}; record it with InsertRun first", run.id.value, Describe());
  }
  return Status::OK();
}

Result<std::vector<RunRecord>> SqliteMetadataStore::ListRuns(int limit, const std::string& pipeline_filter) {
  std::lock_guard lock(mutex_);
  std::string sql = fmt::format("SELECT {}{} ORDER BY started_at_us DESC, run_id DESC{}", kRunColumns,
                                pipeline_filter.empty() ? "" : " WHERE pipeline = ?", limit > 0 ? " LIMIT ?" : "");
  SLUICE_ASSIGN_OR_RETURN(auto query, connection_->Prepare(sql));
  int index = 0;
  if (!pipeline_filter.empty()) SLUICE_TRY(query.Bind(index++, pipeline_filter));
  if (limit > 0) SLUICE_TRY(query.Bind(index++, int64_t{limit}));
  return query.ReadRows<RunRecord>(ReadRun);
}

Result<std::vector<RunRecord>> SqliteMetadataStore::RunningRuns() {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto query, connection_->Prepare(fmt::format(
                                          "SELECT {} WHERE status = ? ORDER BY started_at_us, run_id", kRunColumns)));
  SLUICE_TRY(query.BindAll(std::string(RunStatusName(RunStatus::kRunning))));
  return query.ReadRows<RunRecord>(ReadRun);
}

Result<std::optional<RunRecord>> SqliteMetadataStore::GetRun(const std::string& run_id) {
  if (run_id.empty()) return Status::Invalid("give a run id (or the start of one); `sluice runs` lists them");
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto exact, connection_->Prepare(fmt::format("SELECT {} WHERE run_id = ?", kRunColumns)));
  SLUICE_TRY(exact.BindAll(run_id));
  SLUICE_ASSIGN_OR_RETURN(bool found, exact.Step());
  if (found) {
    SLUICE_ASSIGN_OR_RETURN(auto run, ReadRun(exact));
    return std::optional<RunRecord>(std::move(run));
  }
  // substr() rather than LIKE: ids may contain '_' or '%', which LIKE would treat as wildcards.
  SLUICE_ASSIGN_OR_RETURN(
      auto prefix, connection_->Prepare(
                       fmt::format("SELECT {} WHERE substr(run_id, 1, ?) = ? ORDER BY run_id LIMIT 4", kRunColumns)));
  SLUICE_TRY(prefix.BindAll(static_cast<int64_t>(run_id.size()), run_id));
  std::vector<RunRecord> matches;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, prefix.Step());
    if (!row) break;
    SLUICE_ASSIGN_OR_RETURN(auto run, ReadRun(prefix));
    matches.push_back(std::move(run));
  }
  if (matches.empty()) return std::optional<RunRecord>();
  if (matches.size() > 1) {
    std::vector<std::string> ids;
    for (const auto& m : matches) ids.push_back(m.id.value);
    if (ids.size() > 3) ids.back() = "...";
    return Status::Invalid("run id prefix '{}' matches several runs ({}); give more characters", run_id,
                           Join(ids, ", "));
  }
  return std::optional<RunRecord>(std::move(matches.front()));
}

Result<std::vector<RunTotals>> SqliteMetadataStore::SummarizeRuns() {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(
      auto query, connection_->Prepare("SELECT pipeline, status, count(*), sum(rows_written), sum(bytes_written), "
                                       "count(finished_at_us), sum(finished_at_us - started_at_us) FROM runs "
                                       "GROUP BY pipeline, status ORDER BY pipeline, status"));
  std::vector<RunTotals> totals;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    RunTotals t;
    t.pipeline = query.Text(0);
    SLUICE_ASSIGN_OR_RETURN(t.status, ParseRunStatus(query.Text(1)));
    t.runs = query.Int(2);
    t.rows_written = query.OptionalInt(3).value_or(0);
    t.bytes_written = query.OptionalInt(4).value_or(0);
    t.finished_runs = query.Int(5);
    t.duration_seconds = static_cast<double>(query.OptionalInt(6).value_or(0)) / 1e6;
    totals.push_back(std::move(t));
  }
  return totals;
}

}  // namespace sluice::catalog
