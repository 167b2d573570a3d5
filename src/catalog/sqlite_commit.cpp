#include "catalog/sqlite_metadata_store.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "catalog/sqlite_connection.hpp"
#include "catalog/sqlite_rows.hpp"
#include "common/fault_point.hpp"
#include "common/strings.hpp"

namespace sluice::catalog {

using sqlite::Statement;
using sqlite::Transaction;
using sqlite_rows::PartitionValues;
using sqlite_rows::PartitionValuesFromJson;
using sqlite_rows::PartitionValuesToJson;
using sqlite_rows::StringListToJson;

namespace {

/// True when every (column, value) of `filter` is among `values`.
bool PartitionMatches(const PartitionValues& values, const PartitionValues& filter) {
  return std::all_of(filter.begin(), filter.end(),
                     [&](const auto& pair) { return std::find(values.begin(), values.end(), pair) != values.end(); });
}

Status ValidateTableChange(const TableChange& change) {
  std::string table = change.table.ToString();
  auto parsed = TableName::Parse(table);
  if (!parsed.ok()) return parsed.status().WithContext("commit");
  std::set<std::string> added;
  for (const auto& f : change.added) {
    if (f.path.empty()) return Status::Invalid("commit to {}: an added file has an empty path", table);
    if (f.rows < 0 || f.bytes < 0) {
      return Status::Invalid("commit to {}: file '{}' has negative rows or bytes", table, f.path);
    }
    if (!added.insert(f.path).second) {
      return Status::Invalid("commit to {}: file '{}' is added twice", table, f.path);
    }
  }
  for (const auto& path : change.removed_paths) {
    if (added.count(path) != 0) {
      return Status::Invalid(
          "commit to {}: file '{}' is both removed and added; files are immutable, write the new data under a new "
          "name",
          table, path);
    }
  }
  if (change.operation == WriteOperation::kAppend &&
      (change.remove_all_current || !change.removed_paths.empty() || !change.remove_partition.empty())) {
    return Status::Invalid("commit to {}: an append cannot remove files; use overwrite, delete or compact", table);
  }
  std::set<std::string> columns;
  for (const auto& c : change.schema.columns) {
    if (c.name.empty() || c.type.empty()) {
      return Status::Invalid("commit to {}: every schema column needs a name and a type", table);
    }
    if (!columns.insert(c.name).second) {
      return Status::Invalid("commit to {}: column '{}' appears twice in the schema", table, c.name);
    }
  }
  return Status::OK();
}

Status ValidateCommit(const CommitRequest& request) {
  std::set<TableName> tables;
  for (const auto& change : request.tables) {
    SLUICE_TRY(ValidateTableChange(change));
    if (!tables.insert(change.table).second) {
      return Status::Invalid("commit changes table {} twice; merge the changes into one entry",
                             change.table.ToString());
    }
  }
  for (const auto& s : request.state) {
    if (s.scope.empty() || s.key.empty()) return Status::Invalid("commit: a state update needs a scope and a key");
  }
  for (const auto& f : request.loaded_files) {
    if (f.scope.empty() || f.path.empty()) return Status::Invalid("commit: a loaded file needs a scope and a path");
  }
  return Status::OK();
}

struct CurrentFile {
  int64_t file_id = 0;
  std::string path;
  int64_t rows = 0, bytes = 0;
};

}  // namespace

Result<int64_t> SqliteMetadataStore::ApplyTableChange(const CommitRequest& request, const TableChange& change,
                                                      int64_t now_us) {
  const std::string table = change.table.ToString();
  SLUICE_ASSIGN_OR_RETURN(auto lookup, connection_->Prepare("SELECT table_id, current_version, schema_id, "
                                                            "last_column_id FROM lake_tables "
                                                            "WHERE zone = ? AND table_name = ?"));
  SLUICE_TRY(lookup.BindAll(change.table.zone, change.table.name));
  SLUICE_ASSIGN_OR_RETURN(bool exists, lookup.Step());
  int64_t table_id = 0, current_version = 0, schema_id = 0, last_column_id = 0;
  if (exists) {
    table_id = lookup.Int(0);
    current_version = lookup.Int(1);
    schema_id = lookup.Int(2);
    last_column_id = lookup.Int(3);
  }
  if (change.expected_version && *change.expected_version != current_version) {
    return Status::Conflict(
        "commit to table {} expected version {} but the catalog is at version {}{}; another commit landed first — "
        "re-read the table and retry",
        table, *change.expected_version, current_version, exists ? "" : " (the table does not exist yet)");
  }
  if (!exists) {
    if (change.location.empty()) {
      return Status::Invalid("commit creates table {} but gives no location (the key prefix of its files)", table);
    }
    SLUICE_ASSIGN_OR_RETURN(auto insert,
                            connection_->Prepare("INSERT INTO lake_tables (zone, table_name, location, source, "
                                                 "partition_columns, current_version, schema_id, created_at_us, "
                                                 "updated_at_us, row_count, file_count, total_bytes) "
                                                 "VALUES (?, ?, ?, ?, ?, 0, 0, ?, ?, 0, 0, 0) RETURNING table_id"));
    SLUICE_TRY(insert.BindAll(change.table.zone, change.table.name, change.location, change.source,
                              StringListToJson(change.partition_columns), now_us, now_us));
    SLUICE_ASSIGN_OR_RETURN(bool row, insert.Step());
    if (!row) return Status::Internal("creating table {} in catalog {} returned no id", table, Describe());
    table_id = insert.Int(0);
  }
  const int64_t version = current_version + 1;

  // Which current files this version stops referencing.
  std::map<int64_t, CurrentFile> removed;
  bool partition_overwrite =
      change.operation == WriteOperation::kOverwrite && !change.remove_all_current && change.remove_partition.empty();
  if (change.remove_all_current || !change.remove_partition.empty() || partition_overwrite) {
    std::set<std::string> added_partitions;
    for (const auto& f : change.added) added_partitions.insert(PartitionValuesToJson(f.partition_values));
    SLUICE_ASSIGN_OR_RETURN(auto current,
                            connection_->Prepare("SELECT file_id, path, row_count, byte_count, partition_values "
                                                 "FROM data_files WHERE table_id = ? AND version_removed IS NULL"));
    SLUICE_TRY(current.BindAll(table_id));
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool row, current.Step());
      if (!row) break;
      CurrentFile file{current.Int(0), current.Text(1), current.Int(2), current.Int(3)};
      bool drop = change.remove_all_current;
      if (!drop && !change.remove_partition.empty()) {
        SLUICE_ASSIGN_OR_RETURN(auto values, PartitionValuesFromJson(current.Text(4), file.path));
        drop = PartitionMatches(values, change.remove_partition);
      } else if (!drop && partition_overwrite) {
        // Compare parsed values re-serialised the same way as the added files', not the stored text.
        SLUICE_ASSIGN_OR_RETURN(auto values, PartitionValuesFromJson(current.Text(4), file.path));
        drop = added_partitions.count(PartitionValuesToJson(values)) != 0;
      }
      if (drop) removed.emplace(file.file_id, std::move(file));
    }
  }
  SLUICE_ASSIGN_OR_RETURN(auto find_current,
                          connection_->Prepare("SELECT file_id, row_count, byte_count, version_added FROM data_files "
                                               "WHERE table_id = ? AND path = ? AND version_removed IS NULL"));
  for (const auto& path : change.removed_paths) {
    find_current.Reset();
    SLUICE_TRY(find_current.BindAll(table_id, path));
    SLUICE_ASSIGN_OR_RETURN(bool row, find_current.Step());
    if (!row) {
      return Status::Conflict(
          "commit to table {} removes file '{}', which version {} does not reference (removed by a concurrent "
          "commit, or never added); re-read the table and retry",
          table, path, current_version);
    }
    removed.emplace(find_current.Int(0),
                    CurrentFile{find_current.Int(0), path, find_current.Int(1), find_current.Int(2)});
  }

  SLUICE_ASSIGN_OR_RETURN(auto insert_file,
                          connection_->Prepare("INSERT INTO data_files (table_id, path, row_count, byte_count, "
                                               "partition_values, version_added, version_removed, column_stats) "
                                               "VALUES (?, ?, ?, ?, ?, ?, NULL, ?)"));
  int64_t rows_added = 0, bytes_added = 0;
  for (const auto& f : change.added) {
    find_current.Reset();
    SLUICE_TRY(find_current.BindAll(table_id, f.path));
    SLUICE_ASSIGN_OR_RETURN(bool row, find_current.Step());
    if (row) {
      return Status::Invalid(
          "commit to table {} adds file '{}', which the table already references (added in version {}); files are "
          "immutable, write new data under a new name",
          table, f.path, find_current.Int(3));
    }
    insert_file.Reset();
    SLUICE_TRY(insert_file.BindAll(table_id, f.path, f.rows, f.bytes, PartitionValuesToJson(f.partition_values),
                                   version, f.column_stats));
    SLUICE_TRY(insert_file.Run());
    rows_added += f.rows;
    bytes_added += f.bytes;
  }
  SLUICE_ASSIGN_OR_RETURN(auto mark_removed,
                          connection_->Prepare("UPDATE data_files SET version_removed = ? WHERE file_id = ?"));
  int64_t rows_removed = 0, bytes_removed = 0;
  for (const auto& [file_id, file] : removed) {
    mark_removed.Reset();
    SLUICE_TRY(mark_removed.BindAll(version, file_id));
    SLUICE_TRY(mark_removed.Run());
    rows_removed += file.rows;
    bytes_removed += file.bytes;
  }

  // A new schema version when the columns changed; no columns in the change means "unchanged".
  Schema current_schema;
  if (schema_id > 0) {
    SLUICE_ASSIGN_OR_RETURN(auto schema_query, connection_->Prepare("SELECT columns_json FROM table_schemas "
                                                                    "WHERE table_id = ? AND schema_id = ?"));
    SLUICE_TRY(schema_query.BindAll(table_id, schema_id));
    SLUICE_ASSIGN_OR_RETURN(bool row, schema_query.Step());
    if (row) {
      SLUICE_ASSIGN_OR_RETURN(current_schema, Schema::FromJson(schema_query.Text(0)));
    }
  }
  std::string schema_change;
  bool new_schema = schema_id == 0 || (!change.schema.columns.empty() && change.schema != current_schema);
  // The ids the writer put in its Parquet files must be the ones this transaction gives the columns.
  Schema next_schema = new_schema ? change.schema : current_schema;
  AssignFieldIds(current_schema, &last_column_id, &next_schema);
  for (const auto& c : change.schema.columns) {
    const Column* assigned = next_schema.Find(c.name);
    if (assigned == nullptr || c.field_id == 0) continue;
    bool nested_differ = !c.nested_field_ids.empty() && c.nested_field_ids != assigned->nested_field_ids;
    if (assigned->field_id != c.field_id || nested_differ) {
      return Status::Conflict(
          "commit to table {} wrote column '{}' with field id {}, but the catalog gives it id {} (the table's schema "
          "changed meanwhile); retry the run",
          table, c.name, c.field_id, assigned->field_id);
    }
  }
  if (new_schema) {
    if (schema_id > 0) schema_change = DescribeSchemaChange(current_schema, change.schema);
    ++schema_id;
    SLUICE_ASSIGN_OR_RETURN(auto insert_schema,
                            connection_->Prepare("INSERT INTO table_schemas (table_id, schema_id, columns_json, "
                                                 "first_version) VALUES (?, ?, ?, ?)"));
    SLUICE_TRY(insert_schema.BindAll(table_id, schema_id, next_schema.ToJson(), version));
    SLUICE_TRY(insert_schema.Run());
  } else if (next_schema.ToJson() != current_schema.ToJson()) {
    // The same columns, with ids the stored schema lacked (nested fields of a schema stored before they were
    // numbered): record them where they are, as files written from now on carry them.
    SLUICE_ASSIGN_OR_RETURN(auto fill_ids, connection_->Prepare("UPDATE table_schemas SET columns_json = ? "
                                                                "WHERE table_id = ? AND schema_id = ?"));
    SLUICE_TRY(fill_ids.BindAll(next_schema.ToJson(), table_id, schema_id));
    SLUICE_TRY(fill_ids.Run());
  }

  // Commit times never go backwards within a table, so VersionAt() stays monotonic even when the clocks of
  // several writers disagree.
  SLUICE_ASSIGN_OR_RETURN(auto last_time,
                          connection_->Prepare("SELECT max(committed_at_us) FROM table_versions WHERE table_id = ?"));
  SLUICE_TRY(last_time.BindAll(table_id));
  SLUICE_ASSIGN_OR_RETURN(bool has_last, last_time.Step());
  int64_t committed_at_us = now_us;
  if (has_last) committed_at_us = std::max(now_us, last_time.OptionalInt(0).value_or(now_us));

  SLUICE_ASSIGN_OR_RETURN(auto insert_version,
                          connection_->Prepare("INSERT INTO table_versions (table_id, version, committed_at_us, "
                                               "run_id, pipeline, job_name, operation, files_added, files_removed, "
                                               "rows_added, rows_removed, schema_id, schema_change) "
                                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  SLUICE_TRY(insert_version.BindAll(table_id, version, committed_at_us, request.run_id.value, request.pipeline,
                                    request.job, WriteOperationName(change.operation),
                                    static_cast<int64_t>(change.added.size()), static_cast<int64_t>(removed.size()),
                                    rows_added, rows_removed, schema_id, schema_change));
  SLUICE_TRY(insert_version.Run());

  SLUICE_ASSIGN_OR_RETURN(auto update_table,
                          connection_->Prepare("UPDATE lake_tables SET current_version = ?, schema_id = ?, "
                                               "last_column_id = ?, updated_at_us = ?, row_count = row_count + ?, "
                                               "file_count = file_count + ?, total_bytes = total_bytes + ? "
                                               "WHERE table_id = ? AND current_version = ?"));
  SLUICE_TRY(update_table.BindAll(version, schema_id, last_column_id, committed_at_us, rows_added - rows_removed,
                                  static_cast<int64_t>(change.added.size()) - static_cast<int64_t>(removed.size()),
                                  bytes_added - bytes_removed, table_id, current_version));
  SLUICE_TRY(update_table.Run());
  if (connection_->Changes() != 1) {
    // Cannot happen under BEGIN IMMEDIATE; guards the protocol if the locking ever changes.
    return Status::Conflict("commit to table {}: version {} changed during the commit; retry", table, current_version);
  }
  if (publisher_ != nullptr) {
    PublishedVersion published;
    published.version = version;
    published.committed_at = FromUnixMicros(committed_at_us);
    published.operation = change.operation;
    published.run_id = request.run_id;
    published.files_added = static_cast<int64_t>(change.added.size());
    published.files_removed = static_cast<int64_t>(removed.size());
    published.rows_added = rows_added;
    published.rows_removed = rows_removed;
    published.bytes_added = bytes_added;
    published.bytes_removed = bytes_removed;
    SLUICE_TRY(PublishVersion(change.table, table_id, std::move(published)));
  }
  return version;
}

Status SqliteMetadataStore::ApplyStateUpdates(const std::vector<StateUpdate>& state, int64_t now_us) {
  if (state.empty()) return Status::OK();
  SLUICE_ASSIGN_OR_RETURN(auto upsert,
                          connection_->Prepare("INSERT INTO job_state (scope, state_key, state_value, updated_at_us) "
                                               "VALUES (?, ?, ?, ?) ON CONFLICT (scope, state_key) DO UPDATE SET "
                                               "state_value = excluded.state_value, "
                                               "updated_at_us = excluded.updated_at_us"));
  SLUICE_ASSIGN_OR_RETURN(auto erase, connection_->Prepare("DELETE FROM job_state WHERE scope = ? AND state_key = ?"));
  for (const auto& s : state) {
    if (s.value) {
      upsert.Reset();
      SLUICE_TRY(upsert.BindAll(s.scope, s.key, *s.value, now_us));
      SLUICE_TRY(upsert.Run());
    } else {
      erase.Reset();
      SLUICE_TRY(erase.BindAll(s.scope, s.key));
      SLUICE_TRY(erase.Run());
    }
  }
  return Status::OK();
}

Result<CommitResult> SqliteMetadataStore::Commit(const CommitRequest& request) {
  SLUICE_TRY(ValidateCommit(request));
  std::lock_guard lock(mutex_);
  pending_announcements_.clear();
  SLUICE_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(*connection_, "BEGIN IMMEDIATE"));
  const int64_t now_us = ToUnixMicros(clock_->Now());

  if (!request.forget_loaded_scopes.empty()) {
    SLUICE_ASSIGN_OR_RETURN(auto forget, connection_->Prepare("DELETE FROM loaded_files WHERE scope = ?"));
    for (const auto& scope : request.forget_loaded_scopes) {
      forget.Reset();
      SLUICE_TRY(forget.BindAll(scope));
      SLUICE_TRY(forget.Run());
    }
  }

  CommitResult result;
  for (const auto& change : request.tables) {
    SLUICE_ASSIGN_OR_RETURN(int64_t version, ApplyTableChange(request, change, now_us));
    result.versions.push_back(version);
  }

  SLUICE_TRY(ApplyStateUpdates(request.state, now_us));

  if (!request.loaded_files.empty()) {
    SLUICE_ASSIGN_OR_RETURN(
        auto upsert, connection_->Prepare("INSERT INTO loaded_files (scope, path, size_bytes, mtime_us, content_hash, "
                                          "loaded_at_us, run_id) VALUES (?, ?, ?, ?, ?, ?, ?) "
                                          "ON CONFLICT (scope, path) DO UPDATE SET size_bytes = excluded.size_bytes, "
                                          "mtime_us = excluded.mtime_us, content_hash = excluded.content_hash, "
                                          "loaded_at_us = excluded.loaded_at_us, run_id = excluded.run_id"));
    for (const auto& f : request.loaded_files) {
      upsert.Reset();
      SLUICE_TRY(upsert.BindAll(f.scope, f.path, f.size, f.mtime_us, f.content_hash, now_us, request.run_id.value));
      SLUICE_TRY(upsert.Run());
    }
  }

  SLUICE_FAULT_POINT("in_commit");
  SLUICE_TRY(transaction.Commit());
  AnnouncePublished();
  return result;
}

}  // namespace sluice::catalog
