#pragma once

#include <string>

#include "catalog/metadata_store.hpp"
#include "catalog/table_format.hpp"
#include "storage/object_store.hpp"

namespace sluice::iceberg {

/// Keeps Iceberg v2 metadata beside every table of the lake (table_format: iceberg): each committed version
/// gets a manifest (every live file), a manifest list and metadata/v<version>.metadata.json, written with
/// plain object puts before the catalog makes them current; metadata/version-hint.text follows the commit.
class IcebergPublisher final : public catalog::TableFormatPublisher {
 public:
  /// `lake` must outlive the publisher.
  explicit IcebergPublisher(storage::ObjectStore& lake) : lake_(lake) {}

  Result<std::string> Prepare(const catalog::PublishedVersion& version) override;
  void Published(const catalog::TableInfo& table, const std::string& metadata_location) override;

  /// The lake key of a URI under the lake's root ("file:///lake/raw/x/metadata/v1.metadata.json" →
  /// "raw/x/metadata/v1.metadata.json"); InvalidArgument for a URI elsewhere.
  Result<std::string> KeyOf(const std::string& uri) const;
  /// The URI of a lake key, as Iceberg metadata records locations.
  std::string UriOf(const std::string& key) const;

 private:
  storage::ObjectStore& lake_;
};

/// Writes (again) the Iceberg metadata of every version of `table` from the catalog's history and points the
/// catalog at the newest, for tables made before table_format: iceberg or whose metadata was lost. Returns
/// the metadata location.
Result<std::string> ExportTable(catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                                const catalog::TableName& table);

/// Drops from `table`'s current Iceberg metadata the snapshots committed before `cutoff` (never the current one),
/// as `maintain vacuum` deletes the files only they reference: writes the trimmed metadata as a new file and
/// moves the catalog's pointer to it (compare-and-set). Returns how many snapshots were expired (0: nothing
/// written). A table without Iceberg metadata has nothing to expire.
Result<int64_t> ExpireSnapshots(catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                                const catalog::TableInfo& table, TimePoint cutoff);

}  // namespace sluice::iceberg
