#pragma once

// Reading and writing catalog rows, shared by the files of the SQLite store (sqlite_*.cpp): column lists, row
// readers and the JSON forms of list columns. Internal to catalog/.

#include <string>
#include <utility>
#include <vector>

#include "catalog/metadata_store.hpp"
#include "catalog/sqlite_connection.hpp"

namespace sluice::catalog::sqlite_rows {

using PartitionValues = std::vector<std::pair<std::string, std::string>>;

inline constexpr const char* kTableColumns =
    "t.table_id, t.zone, t.table_name, t.location, t.source, t.partition_columns, t.current_version, "
    "t.created_at_us, t.updated_at_us, t.row_count, t.file_count, t.total_bytes, s.columns_json, t.last_column_id "
    "FROM lake_tables t LEFT JOIN table_schemas s ON s.table_id = t.table_id AND s.schema_id = t.schema_id";

inline constexpr const char* kQueueColumns =
    "queue_id, pipeline, trigger_kind, dedup_key, detail, enqueued_at_us, not_before_us, attempt, queue_state, "
    "full_refresh, only_job FROM run_queue";

inline constexpr const char* kRunColumns =
    "run_id, pipeline, job_name, env, trigger_kind, status, started_at_us, finished_at_us, rows_read, rows_written, "
    "rows_rejected, bytes_written, files_written, error_message, details_json FROM runs";

Result<QueuedRun> ReadQueuedRun(const sqlite::Statement& row);
std::string PartitionValuesToJson(const PartitionValues& values);
Result<PartitionValues> PartitionValuesFromJson(const std::string& text, const std::string& path);
std::string StringListToJson(const std::vector<std::string>& values);
Result<std::vector<std::string>> StringListFromJson(const std::string& text, const std::string& table);
Result<TableInfo> ReadTableInfo(const sqlite::Statement& row);
Result<RunRecord> ReadRun(const sqlite::Statement& row);
Status ValidateRun(const RunRecord& run);
Status BindRun(sqlite::Statement& statement, const RunRecord& run);

}  // namespace sluice::catalog::sqlite_rows
