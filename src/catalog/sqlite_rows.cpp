#include "catalog/sqlite_rows.hpp"
#include "common/strings.hpp"

#include <nlohmann/json.hpp>

namespace sluice::catalog::sqlite_rows {

Result<QueuedRun> ReadQueuedRun(const sqlite::Statement& row) {
  QueuedRun run;
  run.id = RunId{row.Text(0)};
  run.pipeline = row.Text(1);
  run.trigger = row.Text(2);
  run.dedup_key = row.Text(3);
  run.detail = row.Text(4);
  run.enqueued_at = FromUnixMicros(row.Int(5));
  run.not_before = FromUnixMicros(row.Int(6));
  run.attempt = row.Int(7);
  run.full_refresh = row.Int(9) != 0;
  run.only_job = row.Text(10);
  std::string state = row.Text(8);
  if (state == "queued") {
    run.state = QueueState::kQueued;
  } else if (state == "claimed") {
    run.state = QueueState::kClaimed;
  } else if (state == "done") {
    run.state = QueueState::kDone;
  } else {
    return Status::Invalid("queued run {} has an unknown state '{}' in the catalog", run.id, state);
  }
  return run;
}

std::string PartitionValuesToJson(const PartitionValues& values) {
  nlohmann::json doc = nlohmann::json::array();
  for (const auto& [column, value] : values) doc.push_back({column, value});
  return doc.dump();
}

Result<PartitionValues> PartitionValuesFromJson(const std::string& text, const std::string& path) {
  try {
    PartitionValues values;
    for (const auto& pair : nlohmann::json::parse(text)) {
      values.emplace_back(pair.at(0).get<std::string>(), pair.at(1).get<std::string>());
    }
    return values;
  } catch (const nlohmann::json::exception& e) {
    return Status::DataError("catalog entry of file '{}' has malformed partition values '{}' ({})", path, text,
                             e.what());
  }
}

std::string StringListToJson(const std::vector<std::string>& values) { return nlohmann::json(values).dump(); }

Result<std::vector<std::string>> StringListFromJson(const std::string& text, const std::string& table) {
  try {
    return nlohmann::json::parse(text).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    return Status::DataError("catalog entry of table {} has malformed partition columns '{}' ({})", table, text,
                             e.what());
  }
}

Result<TableInfo> ReadTableInfo(const sqlite::Statement& row) {
  TableInfo info;
  info.id = row.Int(0);
  info.name = TableName{row.Text(1), row.Text(2)};
  info.location = row.Text(3);
  info.source = row.Text(4);
  SLUICE_ASSIGN_OR_RETURN(info.partition_columns, StringListFromJson(row.Text(5), info.name.ToString()));
  info.current_version = row.Int(6);
  info.created_at = FromUnixMicros(row.Int(7));
  info.updated_at = FromUnixMicros(row.Int(8));
  info.row_count = row.Int(9);
  info.file_count = row.Int(10);
  info.total_bytes = row.Int(11);
  if (!row.IsNull(12)) {
    SLUICE_ASSIGN_OR_RETURN(info.schema, Schema::FromJson(row.Text(12)));
  }
  info.last_column_id = row.Int(13);
  return info;
}

Result<RunRecord> ReadRun(const sqlite::Statement& row) {
  RunRecord run;
  run.id = RunId{row.Text(0)};
  run.pipeline = row.Text(1);
  run.job = row.Text(2);
  run.env = row.Text(3);
  run.trigger = row.Text(4);
  auto status = ParseRunStatus(row.Text(5));
  if (!status.ok()) return status.status().WithContext("catalog entry of run {}", run.id.value);
  run.status = *status;
  run.started_at = FromUnixMicros(row.Int(6));
  if (auto finished = row.OptionalInt(7)) run.finished_at = FromUnixMicros(*finished);
  run.rows_read = row.Int(8);
  run.rows_written = row.Int(9);
  run.rows_rejected = row.Int(10);
  run.bytes_written = row.Int(11);
  run.files_written = row.Int(12);
  run.error = row.Text(13);
  run.details_json = row.Text(14);
  return run;
}

Status ValidateRun(const RunRecord& run) {
  if (run.id.value.empty()) return Status::Invalid("a run record needs an id");
  if (!run.details_json.empty() && !nlohmann::json::accept(run.details_json)) {
    return Status::Invalid("details of run {} are not valid JSON; pass an object such as {{}}", run.id.value);
  }
  return Status::OK();
}

Status BindRun(sqlite::Statement& statement, const RunRecord& run) {
  std::optional<int64_t> finished;
  if (run.finished_at) finished = ToUnixMicros(*run.finished_at);
  return statement.BindAll(run.id.value, run.pipeline, run.job, run.env, run.trigger, RunStatusName(run.status),
                           ToUnixMicros(run.started_at), finished, run.rows_read, run.rows_written, run.rows_rejected,
                           run.bytes_written, run.files_written, run.error,
                           run.details_json.empty() ? std::string("{}") : run.details_json);
}

}  // namespace sluice::catalog::sqlite_rows
