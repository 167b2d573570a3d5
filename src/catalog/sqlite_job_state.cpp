#include "catalog/sqlite_metadata_store.hpp"

#include <algorithm>

#include "catalog/sqlite_connection.hpp"
#include "catalog/sqlite_rows.hpp"
#include "common/strings.hpp"

namespace sluice::catalog {

using sqlite::Statement;
using sqlite::Transaction;

Result<std::optional<std::string>> SqliteMetadataStore::GetState(const std::string& scope, const std::string& key) {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto query,
                          connection_->Prepare("SELECT state_value FROM job_state WHERE scope = ? AND state_key = ?"));
  SLUICE_TRY(query.BindAll(scope, key));
  SLUICE_ASSIGN_OR_RETURN(bool row, query.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(query.Text(0));
}

Result<std::vector<std::pair<std::string, std::string>>> SqliteMetadataStore::ListState(const std::string& scope) {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto query, connection_->Prepare("SELECT state_key, state_value FROM job_state "
                                                           "WHERE scope = ? ORDER BY state_key"));
  SLUICE_TRY(query.BindAll(scope));
  return query.ReadRows<std::pair<std::string, std::string>>([](const Statement& row) {
    return std::pair{row.Text(0), row.Text(1)};
  });
}

Result<std::vector<std::pair<std::string, std::string>>> SqliteMetadataStore::StateWithKey(const std::string& key) {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto query, connection_->Prepare("SELECT scope, state_value FROM job_state "
                                                           "WHERE state_key = ? ORDER BY scope"));
  SLUICE_TRY(query.BindAll(key));
  return query.ReadRows<std::pair<std::string, std::string>>([](const Statement& row) {
    return std::pair{row.Text(0), row.Text(1)};
  });
}

Result<std::vector<LoadedFile>> SqliteMetadataStore::LoadedFiles(const std::string& scope) {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto query, connection_->Prepare("SELECT scope, path, size_bytes, mtime_us, content_hash "
                                                           "FROM loaded_files WHERE scope = ? ORDER BY path"));
  SLUICE_TRY(query.BindAll(scope));
  return query.ReadRows<LoadedFile>([](const Statement& row) {
    return LoadedFile{row.Text(0), row.Text(1), row.Int(2), row.Int(3), row.Text(4)};
  });
}

namespace {

Status CheckJobStateUpdates(const std::string& pipeline, const std::string& job,
                            const std::vector<StateUpdate>& state) {
  for (const auto& s : state) {
    if (s.scope.empty() || s.key.empty()) {
      return Status::Invalid("window job {}/{}: a state update needs a scope and a key", pipeline, job);
    }
  }
  return Status::OK();
}

}  // namespace

Status SqliteMetadataStore::PutWindowJob(const WindowJob& job, const std::vector<StateUpdate>& state) {
  if (job.pipeline.empty() || job.job.empty()) return Status::Invalid("a window job needs a pipeline and a job name");
  SLUICE_TRY(CheckJobStateUpdates(job.pipeline, job.job, state));
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(*connection_, "BEGIN IMMEDIATE"));
  const int64_t now_us = ToUnixMicros(clock_->Now());
  SLUICE_ASSIGN_OR_RETURN(
      auto upsert, connection_->Prepare(
                       "INSERT INTO jobs (pipeline, job_name, source_table, target_table, window_column, first_start, "
                       "first_stop, window_step, partition_by, lower_bound, upper_bound, num_partitions, "
                       "created_at_us, updated_at_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                       "ON CONFLICT (pipeline, job_name) DO UPDATE SET source_table = excluded.source_table, "
                       "target_table = excluded.target_table, window_column = excluded.window_column, "
                       "first_start = excluded.first_start, first_stop = excluded.first_stop, "
                       "window_step = excluded.window_step, partition_by = excluded.partition_by, "
                       "lower_bound = excluded.lower_bound, upper_bound = excluded.upper_bound, "
                       "num_partitions = excluded.num_partitions, updated_at_us = excluded.updated_at_us"));
  SLUICE_TRY(upsert.BindAll(job.pipeline, job.job, job.source_table, job.target_table, job.column, job.first_start,
                            job.first_stop, job.step, job.partition_by, job.lower_bound, job.upper_bound,
                            job.num_partitions, now_us, now_us));
  SLUICE_TRY(upsert.Run());
  SLUICE_TRY(ApplyStateUpdates(state, now_us));
  return transaction.Commit();
}

Result<std::vector<WindowJob>> SqliteMetadataStore::ListWindowJobs(const std::string& pipeline) {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(
      auto query, connection_->Prepare(
                      fmt::format("SELECT pipeline, job_name, source_table, target_table, window_column, first_start, "
                                  "first_stop, window_step, partition_by, lower_bound, upper_bound, num_partitions, "
                                  "created_at_us, updated_at_us FROM jobs{} ORDER BY pipeline, job_name",
                                  pipeline.empty() ? "" : " WHERE pipeline = ?")));
  if (!pipeline.empty()) SLUICE_TRY(query.BindAll(pipeline));
  std::vector<WindowJob> jobs;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    WindowJob job;
    job.pipeline = query.Text(0);
    job.job = query.Text(1);
    job.source_table = query.Text(2);
    job.target_table = query.Text(3);
    job.column = query.Text(4);
    job.first_start = query.Text(5);
    job.first_stop = query.Text(6);
    job.step = query.Text(7);
    job.partition_by = query.Text(8);
    job.lower_bound = query.OptionalInt(9);
    job.upper_bound = query.OptionalInt(10);
    job.num_partitions = query.OptionalInt(11);
    job.created_at = FromUnixMicros(query.Int(12));
    job.updated_at = FromUnixMicros(query.Int(13));
    jobs.push_back(std::move(job));
  }
  return jobs;
}

Status SqliteMetadataStore::RemoveWindowJob(const std::string& pipeline, const std::string& job,
                                            const std::vector<StateUpdate>& state) {
  SLUICE_TRY(CheckJobStateUpdates(pipeline, job, state));
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(*connection_, "BEGIN IMMEDIATE"));
  SLUICE_ASSIGN_OR_RETURN(auto erase, connection_->Prepare("DELETE FROM jobs WHERE pipeline = ? AND job_name = ?"));
  SLUICE_TRY(erase.BindAll(pipeline, job));
  SLUICE_TRY(erase.Run());
  if (connection_->Changes() == 0) return Status::NotFound("the catalog has no window job {}/{}", pipeline, job);
  SLUICE_TRY(ApplyStateUpdates(state, ToUnixMicros(clock_->Now())));
  return transaction.Commit();
}

}  // namespace sluice::catalog
