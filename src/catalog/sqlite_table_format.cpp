// The table-format side of the SQLite store: the publisher hook of a commit and the Iceberg JDBC
// catalog's table iceberg_tables (namespace = zone).
#include <spdlog/spdlog.h>

#include "catalog/sqlite_connection.hpp"
#include "catalog/sqlite_metadata_store.hpp"

namespace sluice::catalog {

void SqliteMetadataStore::SetTableFormatPublisher(std::shared_ptr<TableFormatPublisher> publisher) {
  std::lock_guard lock(mutex_);
  publisher_ = std::move(publisher);
}

Status SqliteMetadataStore::PublishVersion(const TableName& table, int64_t table_id, PublishedVersion published) {
  SLUICE_ASSIGN_OR_RETURN(published.table, TableById(table_id));
  SLUICE_ASSIGN_OR_RETURN(published.files, FilesAt(table_id, published.version));
  SLUICE_ASSIGN_OR_RETURN(auto pointer, ReadPointer(table));
  std::optional<std::string> previous;
  if (pointer) previous = pointer->metadata_location;
  published.previous_metadata = previous;
  auto prepared = publisher_->Prepare(published);
  if (!prepared.ok()) {
    return prepared.status().WithContext("publishing the table format metadata of {} version {}", table.ToString(),
                                         published.version);
  }
  std::string location = std::move(prepared).value();
  SLUICE_TRY(WritePointer(table, previous, location));
  pending_announcements_.emplace_back(std::move(published.table), std::move(location));
  return Status::OK();
}

void SqliteMetadataStore::AnnouncePublished() {
  if (publisher_ != nullptr) {
    for (const auto& [table, location] : pending_announcements_) publisher_->Published(table, location);
  }
  pending_announcements_.clear();
}

Result<std::optional<TableFormatPointer>> SqliteMetadataStore::ReadPointer(const TableName& table) {
  SLUICE_ASSIGN_OR_RETURN(auto query, connection_->Prepare("SELECT metadata_location, previous_metadata_location "
                                                           "FROM iceberg_tables WHERE catalog_name = ? AND "
                                                           "table_namespace = ? AND table_name = ?"));
  SLUICE_TRY(query.BindAll(std::string(kIcebergCatalogName), table.zone, table.name));
  SLUICE_ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found || query.IsNull(0)) return std::optional<TableFormatPointer>();
  return std::optional<TableFormatPointer>(
      TableFormatPointer{table, query.Text(0), query.IsNull(1) ? std::string() : query.Text(1)});
}

Status SqliteMetadataStore::WritePointer(const TableName& table, const std::optional<std::string>& expected,
                                         const std::string& location) {
  if (expected) {
    SLUICE_ASSIGN_OR_RETURN(auto update,
                            connection_->Prepare("UPDATE iceberg_tables SET metadata_location = ?, "
                                                 "previous_metadata_location = ? WHERE catalog_name = ? AND "
                                                 "table_namespace = ? AND table_name = ? AND metadata_location = ?"));
    SLUICE_TRY(
        update.BindAll(location, *expected, std::string(kIcebergCatalogName), table.zone, table.name, *expected));
    SLUICE_TRY(update.Run());
  } else {
    SLUICE_ASSIGN_OR_RETURN(auto insert,
                            connection_->Prepare("INSERT INTO iceberg_tables (catalog_name, table_namespace, "
                                                 "table_name, metadata_location, previous_metadata_location) "
                                                 "VALUES (?, ?, ?, ?, NULL) ON CONFLICT DO NOTHING"));
    SLUICE_TRY(insert.BindAll(std::string(kIcebergCatalogName), table.zone, table.name, location));
    SLUICE_TRY(insert.Run());
  }
  if (connection_->Changes() != 1) {
    return Status::Conflict(
        "the Iceberg metadata of table {} moved on while it was being replaced (another writer changed "
        "iceberg_tables in catalog {}); retry",
        table.ToString(), Describe());
  }
  return Status::OK();
}

Result<std::vector<TableFormatPointer>> SqliteMetadataStore::ListTableFormatPointers() {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto query, connection_->Prepare("SELECT table_namespace, table_name, metadata_location, "
                                                           "previous_metadata_location FROM iceberg_tables WHERE "
                                                           "catalog_name = ? AND metadata_location IS NOT NULL "
                                                           "ORDER BY table_namespace, table_name"));
  SLUICE_TRY(query.BindAll(std::string(kIcebergCatalogName)));
  return query.ReadRows<TableFormatPointer>([](const sqlite::Statement& row) {
    return TableFormatPointer{TableName{row.Text(0), row.Text(1)}, row.Text(2), row.IsNull(3) ? "" : row.Text(3)};
  });
}

Result<std::optional<TableFormatPointer>> SqliteMetadataStore::GetTableFormatPointer(const TableName& table) {
  std::lock_guard lock(mutex_);
  return ReadPointer(table);
}

Status SqliteMetadataStore::SetTableFormatPointer(const TableName& table, const std::optional<std::string>& expected,
                                                  const std::string& metadata_location) {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(auto transaction, sqlite::Transaction::Begin(*connection_, "BEGIN IMMEDIATE"));
  SLUICE_TRY(WritePointer(table, expected, metadata_location));
  return transaction.Commit();
}

}  // namespace sluice::catalog
