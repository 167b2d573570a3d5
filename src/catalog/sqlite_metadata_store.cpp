#include "catalog/sqlite_metadata_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "catalog/sqlite_connection.hpp"
#include "common/fault_point.hpp"
#include "common/strings.hpp"

namespace sluice::catalog {
namespace {

using sqlite::Statement;
using sqlite::Transaction;

/// Migration N brings a catalog from schema version N-1 to N. Append new steps; never edit a released one.
/// The SQL avoids SQLite-only features (except INTEGER PRIMARY KEY row ids) so the PostgreSQL store can
/// mirror it: BIGINT/TEXT columns, JSON kept as TEXT, times as microseconds since the Unix epoch.
const char* const kMigrations[] = {
    // 1: initial layout.
    R"sql(
CREATE TABLE lake_tables (
  table_id          INTEGER PRIMARY KEY,
  zone              TEXT NOT NULL,
  table_name        TEXT NOT NULL,
  location          TEXT NOT NULL,
  source            TEXT NOT NULL,
  partition_columns TEXT NOT NULL,
  current_version   BIGINT NOT NULL,
  schema_id         BIGINT NOT NULL,
  created_at_us     BIGINT NOT NULL,
  updated_at_us     BIGINT NOT NULL,
  row_count         BIGINT NOT NULL,
  file_count        BIGINT NOT NULL,
  total_bytes       BIGINT NOT NULL,
  UNIQUE (zone, table_name)
);
CREATE TABLE table_schemas (
  table_id      BIGINT NOT NULL REFERENCES lake_tables (table_id),
  schema_id     BIGINT NOT NULL,
  columns_json  TEXT NOT NULL,
  first_version BIGINT NOT NULL,
  PRIMARY KEY (table_id, schema_id)
);
CREATE TABLE table_versions (
  table_id        BIGINT NOT NULL REFERENCES lake_tables (table_id),
  version         BIGINT NOT NULL,
  committed_at_us BIGINT NOT NULL,
  run_id          TEXT NOT NULL,
  pipeline        TEXT NOT NULL,
  job_name        TEXT NOT NULL,
  operation       TEXT NOT NULL,
  files_added     BIGINT NOT NULL,
  files_removed   BIGINT NOT NULL,
  rows_added      BIGINT NOT NULL,
  rows_removed    BIGINT NOT NULL,
  schema_id       BIGINT NOT NULL,
  schema_change   TEXT NOT NULL,
  PRIMARY KEY (table_id, version)
);
CREATE INDEX table_versions_by_time ON table_versions (table_id, committed_at_us);
CREATE TABLE data_files (
  file_id          INTEGER PRIMARY KEY,
  table_id         BIGINT NOT NULL REFERENCES lake_tables (table_id),
  path             TEXT NOT NULL,
  row_count        BIGINT NOT NULL,
  byte_count       BIGINT NOT NULL,
  partition_values TEXT NOT NULL,
  version_added    BIGINT NOT NULL,
  version_removed  BIGINT
);
CREATE INDEX data_files_by_version ON data_files (table_id, version_removed, version_added);
CREATE INDEX data_files_by_path ON data_files (table_id, path);
CREATE INDEX data_files_by_name ON data_files (path);
CREATE TABLE job_state (
  scope         TEXT NOT NULL,
  state_key     TEXT NOT NULL,
  state_value   TEXT NOT NULL,
  updated_at_us BIGINT NOT NULL,
  PRIMARY KEY (scope, state_key)
);
CREATE TABLE loaded_files (
  scope        TEXT NOT NULL,
  path         TEXT NOT NULL,
  size_bytes   BIGINT NOT NULL,
  mtime_us     BIGINT NOT NULL,
  content_hash TEXT NOT NULL,
  loaded_at_us BIGINT NOT NULL,
  run_id       TEXT NOT NULL,
  PRIMARY KEY (scope, path)
);
CREATE TABLE runs (
  run_id         TEXT PRIMARY KEY,
  pipeline       TEXT NOT NULL,
  job_name       TEXT NOT NULL,
  env            TEXT NOT NULL,
  trigger_kind   TEXT NOT NULL,
  status         TEXT NOT NULL,
  started_at_us  BIGINT NOT NULL,
  finished_at_us BIGINT,
  rows_read      BIGINT NOT NULL,
  rows_written   BIGINT NOT NULL,
  rows_rejected  BIGINT NOT NULL,
  bytes_written  BIGINT NOT NULL,
  files_written  BIGINT NOT NULL,
  error_message  TEXT NOT NULL,
  details_json   TEXT NOT NULL
);
CREATE INDEX runs_by_start ON runs (started_at_us);
CREATE INDEX runs_by_pipeline ON runs (pipeline, started_at_us);
)sql",
    // 2: the run queue and trigger memory of `sluice serve`.
    R"sql(
CREATE TABLE run_queue (
  queue_id       TEXT PRIMARY KEY,
  pipeline       TEXT NOT NULL,
  trigger_kind   TEXT NOT NULL,
  dedup_key      TEXT NOT NULL,
  detail         TEXT NOT NULL,
  enqueued_at_us BIGINT NOT NULL,
  not_before_us  BIGINT NOT NULL,
  attempt        BIGINT NOT NULL,
  queue_state    TEXT NOT NULL
);
CREATE UNIQUE INDEX run_queue_by_dedup_key ON run_queue (pipeline, dedup_key) WHERE dedup_key <> '';
CREATE INDEX run_queue_by_state ON run_queue (queue_state, not_before_us);
CREATE TABLE trigger_state (
  pipeline      TEXT NOT NULL,
  trigger_key   TEXT NOT NULL,
  state_value   TEXT NOT NULL,
  updated_at_us BIGINT NOT NULL,
  PRIMARY KEY (pipeline, trigger_key)
);
)sql",
    // 3: window jobs managed with `sluice jobs` (the current window stays in job_state).
    R"sql(
CREATE TABLE jobs (
  pipeline       TEXT NOT NULL,
  job_name       TEXT NOT NULL,
  source_table   TEXT NOT NULL,
  target_table   TEXT NOT NULL,
  window_column  TEXT NOT NULL,
  first_start    TEXT NOT NULL,
  first_stop     TEXT NOT NULL,
  window_step    TEXT NOT NULL,
  partition_by   TEXT NOT NULL,
  lower_bound    BIGINT,
  upper_bound    BIGINT,
  num_partitions BIGINT,
  created_at_us  BIGINT NOT NULL,
  updated_at_us  BIGINT NOT NULL,
  PRIMARY KEY (pipeline, job_name)
);
)sql",
    // 4: the run options a queued run carries (the API's full refresh and single job).
    R"sql(
ALTER TABLE run_queue ADD COLUMN full_refresh INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_queue ADD COLUMN only_job TEXT NOT NULL DEFAULT '';
)sql",
    // 5: column field ids (the highest given per table), per-file column statistics, and the Iceberg JDBC
    // catalog's table, so engines configured with a JDBC catalog on this store find each table's metadata.
    R"sql(
ALTER TABLE lake_tables ADD COLUMN last_column_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE data_files ADD COLUMN column_stats TEXT NOT NULL DEFAULT '';
CREATE TABLE iceberg_tables (
  catalog_name               VARCHAR(255) NOT NULL,
  table_namespace            VARCHAR(255) NOT NULL,
  table_name                 VARCHAR(255) NOT NULL,
  metadata_location          VARCHAR(1000),
  previous_metadata_location VARCHAR(1000),
  PRIMARY KEY (catalog_name, table_namespace, table_name)
);
)sql",
};
constexpr int64_t kMigrationCount = static_cast<int64_t>(std::size(kMigrations));
static_assert(kMigrationCount == SqliteMetadataStore::kSchemaVersion, "one migration per schema version");

constexpr const char* kTableColumns =
    "t.table_id, t.zone, t.table_name, t.location, t.source, t.partition_columns, t.current_version, "
    "t.created_at_us, t.updated_at_us, t.row_count, t.file_count, t.total_bytes, s.columns_json, t.last_column_id "
    "FROM lake_tables t LEFT JOIN table_schemas s ON s.table_id = t.table_id AND s.schema_id = t.schema_id";

constexpr const char* kQueueColumns =
    "queue_id, pipeline, trigger_kind, dedup_key, detail, enqueued_at_us, not_before_us, attempt, queue_state, "
    "full_refresh, only_job FROM run_queue";

Result<QueuedRun> ReadQueuedRun(const Statement& row) {
  QueuedRun run;
  run.id = row.Text(0);
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

constexpr const char* kRunColumns =
    "run_id, pipeline, job_name, env, trigger_kind, status, started_at_us, finished_at_us, rows_read, rows_written, "
    "rows_rejected, bytes_written, files_written, error_message, details_json FROM runs";

using PartitionValues = std::vector<std::pair<std::string, std::string>>;

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

Result<TableInfo> ReadTableInfo(const Statement& row) {
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

Result<RunRecord> ReadRun(const Statement& row) {
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

Status BindRun(Statement& statement, const RunRecord& run) {
  std::optional<int64_t> finished;
  if (run.finished_at) finished = ToUnixMicros(*run.finished_at);
  return statement.BindAll(run.id.value, run.pipeline, run.job, run.env, run.trigger, RunStatusName(run.status),
                           ToUnixMicros(run.started_at), finished, run.rows_read, run.rows_written, run.rows_rejected,
                           run.bytes_written, run.files_written, run.error,
                           run.details_json.empty() ? std::string("{}") : run.details_json);
}

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

SqliteMetadataStore::SqliteMetadataStore(std::unique_ptr<sqlite::Connection> connection, std::filesystem::path file,
                                         std::shared_ptr<const Clock> clock)
    : connection_(std::move(connection)), file_(std::move(file)), clock_(std::move(clock)) {}

SqliteMetadataStore::~SqliteMetadataStore() = default;

Result<std::unique_ptr<SqliteMetadataStore>> SqliteMetadataStore::Open(const std::filesystem::path& file,
                                                                       std::shared_ptr<const Clock> clock,
                                                                       SqliteStoreOptions options) {
  if (!clock) clock = std::make_shared<SystemClock>();
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(file, ec);
  if (ec) return Status::IoError("catalog {}: cannot resolve the path: {}", file.string(), ec.message());
  SLUICE_ASSIGN_OR_RETURN(auto connection, sqlite::Connection::Open(absolute.string(), options.busy_timeout));
  std::unique_ptr<SqliteMetadataStore> store(
      new SqliteMetadataStore(std::move(connection), absolute, std::move(clock)));
  SLUICE_TRY(store->Migrate());
  return store;
}

Status SqliteMetadataStore::Migrate() {
  auto read_version = [this]() -> Result<int64_t> {
    SLUICE_ASSIGN_OR_RETURN(auto exists,
                            connection_->Prepare("SELECT count(*) FROM sqlite_master WHERE name = 'schema_version'"));
    SLUICE_ASSIGN_OR_RETURN(bool row, exists.Step());
    if (!row || exists.Int(0) == 0) return int64_t{0};
    SLUICE_ASSIGN_OR_RETURN(auto query, connection_->Prepare("SELECT max(version) FROM schema_version"));
    SLUICE_ASSIGN_OR_RETURN(row, query.Step());
    return row ? query.OptionalInt(0).value_or(0) : 0;
  };
  SLUICE_ASSIGN_OR_RETURN(int64_t version, read_version());
  if (version == kSchemaVersion) return Status::OK();

  // Take the write lock before re-reading, so two processes opening a new file do not both migrate it.
  SLUICE_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(*connection_, "BEGIN IMMEDIATE"));
  SLUICE_ASSIGN_OR_RETURN(version, read_version());
  if (version > kSchemaVersion) {
    return Status::Invalid(
        "catalog {} has schema version {}, newer than this sluice understands ({}); upgrade sluice to use it",
        file_.string(), version, kSchemaVersion);
  }
  if (version == kSchemaVersion) return Status::OK();
  SLUICE_TRY(connection_->Execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)"));
  for (int64_t next = version + 1; next <= kSchemaVersion; ++next) {
    SLUICE_TRY(connection_->Execute(kMigrations[next - 1])
                   .WithContext("migrating catalog {} to schema version {}", file_.string(), next));
  }
  SLUICE_TRY(connection_->Execute("DELETE FROM schema_version"));
  SLUICE_ASSIGN_OR_RETURN(auto insert, connection_->Prepare("INSERT INTO schema_version (version) VALUES (?)"));
  SLUICE_TRY(insert.BindAll(kSchemaVersion));
  SLUICE_TRY(insert.Run());
  SLUICE_TRY(transaction.Commit());
  if (version == 0) {
    spdlog::debug("created catalog {}", file_.string());
  } else {
    spdlog::info("migrated catalog {} from schema version {} to {}", file_.string(), version, kSchemaVersion);
  }
  return Status::OK();
}

std::string SqliteMetadataStore::Describe() const { return "sqlite:" + file_.string(); }

Result<std::pair<int64_t, int64_t>> SqliteMetadataStore::RequireTable(const TableName& name) {
  SLUICE_ASSIGN_OR_RETURN(auto query, connection_->Prepare("SELECT table_id, current_version FROM lake_tables "
                                                           "WHERE zone = ? AND table_name = ?"));
  SLUICE_TRY(query.BindAll(name.zone, name.name));
  SLUICE_ASSIGN_OR_RETURN(bool found, query.Step());
  if (found) return std::make_pair(query.Int(0), query.Int(1));

  SLUICE_ASSIGN_OR_RETURN(auto all, connection_->Prepare("SELECT zone, table_name FROM lake_tables"));
  std::vector<std::string> names;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, all.Step());
    if (!row) break;
    names.push_back(TableName{all.Text(0), all.Text(1)}.ToString());
  }
  std::string nearest = NearestWord(name.ToString(), names);
  std::string hint = nearest.empty() ? "" : fmt::format("did you mean {}? ", nearest);
  return Status::NotFound("table {} is not in catalog {}; {}`sluice catalog list` shows the tables", name.ToString(),
                          Describe(), hint);
}

Result<std::optional<TableInfo>> SqliteMetadataStore::GetTable(const TableName& name) {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(
      auto query, connection_->Prepare(fmt::format("SELECT {} WHERE t.zone = ? AND t.table_name = ?", kTableColumns)));
  SLUICE_TRY(query.BindAll(name.zone, name.name));
  SLUICE_ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) return std::optional<TableInfo>();
  SLUICE_ASSIGN_OR_RETURN(auto info, ReadTableInfo(query));
  return std::optional<TableInfo>(std::move(info));
}

Result<TableInfo> SqliteMetadataStore::TableById(int64_t table_id) {
  SLUICE_ASSIGN_OR_RETURN(auto query, connection_->Prepare(fmt::format("SELECT {} WHERE t.table_id = ?", kTableColumns)));
  SLUICE_TRY(query.BindAll(table_id));
  SLUICE_ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) return Status::Internal("catalog {} has no table with id {}", Describe(), table_id);
  return ReadTableInfo(query);
}

Result<std::vector<TableInfo>> SqliteMetadataStore::ListTables() {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto query,
                          connection_->Prepare(fmt::format("SELECT {} ORDER BY t.zone, t.table_name", kTableColumns)));
  return query.ReadRows<TableInfo>(ReadTableInfo);
}

Result<std::vector<DataFile>> SqliteMetadataStore::FilesAt(int64_t table_id, int64_t version) {
  SLUICE_ASSIGN_OR_RETURN(auto query,
                          connection_->Prepare("SELECT path, row_count, byte_count, partition_values, version_added, "
                                               "column_stats FROM data_files WHERE table_id = ? AND version_added <= ? "
                                               "AND (version_removed IS NULL OR version_removed > ?) "
                                               "ORDER BY version_added, path"));
  SLUICE_TRY(query.BindAll(table_id, version, version));
  std::vector<DataFile> files;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    DataFile file;
    file.path = query.Text(0);
    file.rows = query.Int(1);
    file.bytes = query.Int(2);
    SLUICE_ASSIGN_OR_RETURN(file.partition_values, PartitionValuesFromJson(query.Text(3), file.path));
    file.version_added = query.Int(4);
    file.column_stats = query.Text(5);
    files.push_back(std::move(file));
  }
  return files;
}

Result<std::vector<DataFile>> SqliteMetadataStore::ListFiles(const TableName& name, std::optional<int64_t> as_of) {
  std::lock_guard lock(mutex_);
  // One read transaction: the version checked and the files listed come from the same snapshot.
  SLUICE_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(*connection_, "BEGIN"));
  SLUICE_ASSIGN_OR_RETURN(auto table, RequireTable(name));
  auto [table_id, current_version] = table;
  int64_t version = as_of.value_or(current_version);
  if (version < 0 || version > current_version) {
    return Status::Invalid("table {} has versions 1 to {}; there is no version {} (`sluice catalog history {}`)",
                           name.ToString(), current_version, version, name.ToString());
  }
  SLUICE_ASSIGN_OR_RETURN(auto files, FilesAt(table_id, version));
  SLUICE_TRY(transaction.Commit());
  return files;
}

Result<std::vector<TableVersion>> SqliteMetadataStore::History(const TableName& name) {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(*connection_, "BEGIN"));
  SLUICE_ASSIGN_OR_RETURN(auto table, RequireTable(name));
  SLUICE_ASSIGN_OR_RETURN(auto query,
                          connection_->Prepare("SELECT v.version, v.committed_at_us, v.run_id, v.pipeline, v.job_name, "
                                               "v.operation, v.files_added, v.files_removed, v.rows_added, "
                                               "v.rows_removed, s.columns_json, v.schema_change "
                                               "FROM table_versions v LEFT JOIN table_schemas s "
                                               "ON s.table_id = v.table_id AND s.schema_id = v.schema_id "
                                               "WHERE v.table_id = ? ORDER BY v.version"));
  SLUICE_TRY(query.BindAll(table.first));
  std::vector<TableVersion> history;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    TableVersion v;
    v.version = query.Int(0);
    v.committed_at = FromUnixMicros(query.Int(1));
    v.run_id = query.Text(2);
    v.pipeline = query.Text(3);
    v.job = query.Text(4);
    v.operation = query.Text(5);
    v.files_added = query.Int(6);
    v.files_removed = query.Int(7);
    v.rows_added = query.Int(8);
    v.rows_removed = query.Int(9);
    if (!query.IsNull(10)) {
      SLUICE_ASSIGN_OR_RETURN(v.schema, Schema::FromJson(query.Text(10)));
    }
    v.schema_change = query.Text(11);
    history.push_back(std::move(v));
  }
  SLUICE_TRY(transaction.Commit());
  return history;
}

Result<std::optional<int64_t>> SqliteMetadataStore::VersionAt(const TableName& name, TimePoint t) {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto transaction, Transaction::Begin(*connection_, "BEGIN"));
  SLUICE_ASSIGN_OR_RETURN(auto table, RequireTable(name));
  SLUICE_ASSIGN_OR_RETURN(auto query, connection_->Prepare("SELECT max(version) FROM table_versions "
                                                           "WHERE table_id = ? AND committed_at_us <= ?"));
  SLUICE_TRY(query.BindAll(table.first, ToUnixMicros(t)));
  SLUICE_ASSIGN_OR_RETURN(bool row, query.Step());
  std::optional<int64_t> version = row ? query.OptionalInt(0) : std::nullopt;
  SLUICE_TRY(transaction.Commit());
  return version;
}

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
    published.run_id = request.run_id.value;
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
  SLUICE_ASSIGN_OR_RETURN(auto erase,
                          connection_->Prepare("DELETE FROM job_state WHERE scope = ? AND state_key = ?"));
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

Result<std::vector<std::string>> SqliteMetadataStore::AllReferencedPaths() {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto query, connection_->Prepare("SELECT DISTINCT path FROM data_files ORDER BY path"));
  return query.ReadRows<std::string>([](const Statement& row) { return row.Text(0); });
}

Result<std::vector<std::string>> SqliteMetadataStore::PathsRemovedBefore(TimePoint before) {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto query,
                          connection_->Prepare("SELECT DISTINCT f.path FROM data_files f JOIN table_versions v "
                                               "ON v.table_id = f.table_id AND v.version = f.version_removed "
                                               "WHERE v.committed_at_us < ? AND NOT EXISTS (SELECT 1 FROM data_files c "
                                               "WHERE c.path = f.path AND c.version_removed IS NULL) ORDER BY f.path"));
  SLUICE_TRY(query.BindAll(ToUnixMicros(before)));
  return query.ReadRows<std::string>([](const Statement& row) { return row.Text(0); });
}

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
  return query.ReadRows<std::pair<std::string, std::string>>(
      [](const Statement& row) { return std::pair{row.Text(0), row.Text(1)}; });
}

Result<std::vector<std::pair<std::string, std::string>>> SqliteMetadataStore::StateWithKey(const std::string& key) {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto query, connection_->Prepare("SELECT scope, state_value FROM job_state "
                                                           "WHERE state_key = ? ORDER BY scope"));
  SLUICE_TRY(query.BindAll(key));
  return query.ReadRows<std::pair<std::string, std::string>>(
      [](const Statement& row) { return std::pair{row.Text(0), row.Text(1)}; });
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

Status CheckJobStateUpdates(const std::string& pipeline, const std::string& job, const std::vector<StateUpdate>& state) {
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
      auto upsert,
      connection_->Prepare("INSERT INTO jobs (pipeline, job_name, source_table, target_table, window_column, first_start, "
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
      auto query,
      connection_->Prepare(fmt::format("SELECT pipeline, job_name, source_table, target_table, window_column, first_start, "
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

namespace {

Status WriteTriggerState(sqlite::Connection& connection, const TriggerState& state, TimePoint now) {
  SLUICE_ASSIGN_OR_RETURN(auto upsert, connection.Prepare(
                                           "INSERT INTO trigger_state (pipeline, trigger_key, state_value, "
                                           "updated_at_us) VALUES (?, ?, ?, ?) ON CONFLICT (pipeline, trigger_key) "
                                           "DO UPDATE SET state_value = excluded.state_value, "
                                           "updated_at_us = excluded.updated_at_us"));
  SLUICE_TRY(upsert.BindAll(state.pipeline, state.trigger_key, state.state, ToUnixMicros(now)));
  return upsert.Run();
}

}  // namespace

Result<std::vector<RunTotals>> SqliteMetadataStore::SummarizeRuns() {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto query, connection_->Prepare(
                                          "SELECT pipeline, status, count(*), sum(rows_written), sum(bytes_written), "
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

Result<EnqueueResult> SqliteMetadataStore::EnqueueRun(const QueuedRun& run,
                                                      const std::optional<TriggerState>& trigger_state) {
  if (run.id.empty() || run.pipeline.empty() || run.trigger.empty()) {
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
    if (found) result = EnqueueResult{existing.Text(0), false};
  }
  if (result.created) {
    SLUICE_ASSIGN_OR_RETURN(auto insert, connection_->Prepare(
                                             "INSERT INTO run_queue (queue_id, pipeline, trigger_kind, dedup_key, "
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

Status SqliteMetadataStore::FinishQueuedRun(const std::string& id) {
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
  SLUICE_ASSIGN_OR_RETURN(auto query, connection_->Prepare(fmt::format(
                                          "SELECT {} WHERE queue_state <> 'done' ORDER BY enqueued_at_us, queue_id",
                                          kQueueColumns)));
  return query.ReadRows<QueuedRun>(ReadQueuedRun);
}

Result<std::optional<QueuedRun>> SqliteMetadataStore::GetQueuedRun(const std::string& id) {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto query,
                          connection_->Prepare(fmt::format("SELECT {} WHERE queue_id = ?", kQueueColumns)));
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
