#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "catalog/table_format.hpp"
#include "catalog/types.hpp"
#include "common/status.hpp"
#include "iceberg/manifest.hpp"

// Iceberg v2 table metadata (spec: "Table Metadata") for a sluice table: schemas with the catalog's field
// ids, one identity partition spec over the hive partition columns, an unsorted sort order, and one
// snapshot per catalog version (snapshot id and sequence number = the version).
namespace sluice::iceberg {

/// The table's schema as an Iceberg struct; columns without an Iceberg type are left out (their names are
/// returned in `skipped`).
nlohmann::json IcebergSchema(const catalog::Schema& schema, int64_t schema_id, std::vector<std::string>* skipped);

/// The identity partition spec over the table's partition columns. Invalid when a partition column is
/// not in the schema with a type identity partitions can carry here.
Result<std::vector<PartitionField>> IdentitySpec(const catalog::TableInfo& table);

/// The name mapping (schema.name-mapping.default) of the schema: lets readers match columns by name in files
/// written before field ids.
std::string NameMapping(const catalog::Schema& schema);

/// The manifest entry of one data file of `version` (added by it or existing), with its partition values and
/// the column statistics the writer measured.
Result<ManifestEntry> EntryOf(const catalog::DataFile& file, const std::string& file_uri, int64_t version,
                              const catalog::Schema& schema, const std::vector<PartitionField>& spec);

struct SnapshotFiles {
  std::string manifest_list_uri;
  std::string metadata_uri;
  std::string table_uri;
};

/// The metadata JSON of `version`: `previous` (the current metadata, if any) with the new snapshot appended
/// and made current, the schema added when it changed, and the logs extended.
Result<nlohmann::json> NextMetadata(const std::optional<nlohmann::json>& previous,
                                    const catalog::PublishedVersion& version, const SnapshotFiles& files,
                                    const std::optional<std::string>& previous_uri);

/// "xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx" made from `seed` (stable: the same table gets the same uuid when its
/// metadata is rebuilt).
std::string UuidFrom(const std::string& seed);

}  // namespace sluice::iceberg
