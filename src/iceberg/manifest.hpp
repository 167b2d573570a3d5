#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "iceberg/types.hpp"

// Iceberg v2 manifests and manifest lists (spec: "Manifests", "Manifest Lists"), written as Avro with the
// spec's field ids and the key/value metadata readers look for.
namespace sluice::iceberg {

/// An identity partition field of the table's only partition spec (spec id 0).
struct PartitionField {
  std::string name;       // the source column's name
  int64_t source_id = 0;  // the source column's field id
  int64_t field_id = 0;   // 1000, 1001, ...
  std::string type;       // the source column's Iceberg type (IsPartitionType)
};

enum class EntryStatus { kExisting = 0, kAdded = 1, kDeleted = 2 };

struct ManifestEntry {
  EntryStatus status = EntryStatus::kAdded;
  int64_t snapshot_id = 0;
  /// The data sequence number; added entries leave it null so readers inherit the manifest's.
  int64_t sequence_number = 0;
  std::string file_path;  // absolute URI
  int64_t record_count = 0, file_size_in_bytes = 0;
  std::vector<PartitionValue> partition;  // one per partition field, in order
  std::vector<std::pair<int32_t, int64_t>> value_counts, null_value_counts;
  std::vector<std::pair<int32_t, std::string>> lower_bounds, upper_bounds;  // single-value serialization
};

/// The Avro schema of a manifest's entries for this partition spec.
std::string ManifestEntrySchema(const std::vector<PartitionField>& spec);
/// The Avro schema of a manifest list.
std::string ManifestListSchema();
/// The partition spec's fields as the metadata JSON and the manifest header write them.
std::string PartitionSpecFieldsJson(const std::vector<PartitionField>& spec);

struct ManifestHeader {
  std::string schema_json;  // the table schema (Iceberg JSON) the entries were written with
  int64_t schema_id = 0;
  std::vector<PartitionField> spec;
};

/// A whole manifest file (content: data).
std::string WriteManifest(const ManifestHeader& header, const std::vector<ManifestEntry>& entries,
                          const std::string& sync_seed);

/// Per partition field, over a manifest's entries: for the manifest list's partition summaries.
struct FieldSummary {
  bool contains_null = false;
  std::optional<std::string> lower_bound, upper_bound;  // single-value serialization
};
std::vector<FieldSummary> SummarizePartitions(const std::vector<PartitionField>& spec,
                                              const std::vector<ManifestEntry>& entries);

struct ManifestFile {
  std::string manifest_path;
  int64_t manifest_length = 0;
  int64_t sequence_number = 0, min_sequence_number = 0, added_snapshot_id = 0;
  int32_t added_files_count = 0, existing_files_count = 0, deleted_files_count = 0;
  int64_t added_rows_count = 0, existing_rows_count = 0, deleted_rows_count = 0;
  std::vector<FieldSummary> partitions;
};

struct SnapshotHeader {
  int64_t snapshot_id = 0;
  std::optional<int64_t> parent_snapshot_id;
  int64_t sequence_number = 0;
};

/// A whole manifest list file.
std::string WriteManifestList(const SnapshotHeader& snapshot, const std::vector<ManifestFile>& manifests,
                              const std::string& sync_seed);

}  // namespace sluice::iceberg
