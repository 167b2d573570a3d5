#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/types.hpp"
#include "common/clock.hpp"
#include "common/status.hpp"

// An open table format (Iceberg) kept beside the catalog: every commit has the publisher write the
// metadata of the table's new version, and the catalog records which metadata is current in the same
// transaction, so another engine reading that pointer sees exactly the committed version.
namespace sluice::catalog {

/// One committed table version, as a publisher sees it inside the commit's transaction.
struct PublishedVersion {
  TableInfo table;  // after the change: current_version = version, schema with field ids
  int64_t version = 0;
  TimePoint committed_at;
  WriteOperation operation = WriteOperation::kAppend;
  RunId run_id;
  std::vector<DataFile> files;  // every file of the version, with the version that added it
  int64_t files_added = 0, files_removed = 0, rows_added = 0, rows_removed = 0, bytes_added = 0, bytes_removed = 0;
  std::optional<std::string> previous_metadata;  // the table's current metadata before this version
};

/// Writes a table format's metadata for committed versions. Implementations live above the catalog.
class TableFormatPublisher {
 public:
  virtual ~TableFormatPublisher() = default;
  /// Writes the metadata of `version` as objects nothing references yet and returns its location (a URI),
  /// which the catalog makes current in the same transaction. An error fails the commit.
  virtual Result<std::string> Prepare(const PublishedVersion& version) = 0;
  /// After the transaction committed: pointers for path-based readers (the version hint). Best effort: the
  /// catalog's pointer is the truth, and the next commit writes the hint again.
  virtual void Published(const TableInfo& table, const std::string& metadata_location) = 0;
};

/// A row of the Iceberg JDBC catalog's table iceberg_tables: namespace = the zone, name = the table.
struct TableFormatPointer {
  TableName table;
  std::string metadata_location;
  std::string previous_metadata_location;  // "" for the first
};

/// catalog_name of the rows sluice keeps in iceberg_tables (an engine's JDBC catalog must use this name).
inline constexpr const char* kIcebergCatalogName = "sluice";

}  // namespace sluice::catalog
