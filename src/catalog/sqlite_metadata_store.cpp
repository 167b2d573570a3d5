#include "catalog/sqlite_metadata_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "catalog/sqlite_connection.hpp"
#include "catalog/sqlite_migrations.hpp"
#include "catalog/sqlite_rows.hpp"
#include "common/strings.hpp"

namespace sluice::catalog {

using sqlite::Statement;
using sqlite::Transaction;
using sqlite_rows::kTableColumns;
using sqlite_rows::PartitionValuesFromJson;
using sqlite_rows::ReadTableInfo;

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
    SLUICE_TRY(connection_->Execute(CatalogMigrations()[next - 1])
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
  SLUICE_ASSIGN_OR_RETURN(auto query,
                          connection_->Prepare(fmt::format("SELECT {} WHERE t.table_id = ?", kTableColumns)));
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
    v.run_id = RunId{query.Text(2)};
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

}  // namespace sluice::catalog
