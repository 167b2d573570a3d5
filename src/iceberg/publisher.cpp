#include "iceberg/publisher.hpp"

#include <spdlog/spdlog.h>

#include <set>

#include "common/strings.hpp"
#include "iceberg/manifest.hpp"
#include "iceberg/table_metadata.hpp"

namespace sluice::iceberg {
namespace {

std::string MetadataKey(const catalog::TableInfo& table, const std::string& name) {
  return table.location + "/metadata/" + name;
}

}  // namespace

std::string IcebergPublisher::UriOf(const std::string& key) const {
  std::string root = lake_.Describe();
  while (!root.empty() && root.back() == '/') root.pop_back();
  return root + "/" + key;
}

Result<std::string> IcebergPublisher::KeyOf(const std::string& uri) const {
  std::string root = UriOf("");
  if (!StartsWith(uri, root) || uri.size() == root.size()) {
    return Status::Invalid("Iceberg metadata location '{}' is not under the lake {}", uri, lake_.Describe());
  }
  return uri.substr(root.size());
}

Result<std::string> IcebergPublisher::Prepare(const catalog::PublishedVersion& version) {
  const catalog::TableInfo& table = version.table;
  SLUICE_ASSIGN_OR_RETURN(auto spec, IdentitySpec(table));

  std::optional<nlohmann::json> previous;
  if (version.previous_metadata) {
    SLUICE_ASSIGN_OR_RETURN(std::string key, KeyOf(*version.previous_metadata));
    SLUICE_ASSIGN_OR_RETURN(std::string text, lake_.Get(key));
    nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      return Status::DataError(
          "the current Iceberg metadata of {} ({}) is not valid JSON; rebuild it with `sluice catalog export-iceberg "
          "{}`",
          table.name.ToString(), *version.previous_metadata, table.name.ToString());
    }
    previous = std::move(parsed);
  }

  // Names unique per attempt: a commit that fails after this leaves objects nobody references (vacuum's).
  std::string attempt = UuidFrom(fmt::format("{}\n{}\n{}", table.location, version.version, version.run_id) +
                                 std::to_string(ToUnixMicros(version.committed_at)));
  std::vector<ManifestEntry> entries;
  ManifestFile manifest;
  manifest.sequence_number = version.version;
  manifest.min_sequence_number = version.version;
  manifest.added_snapshot_id = version.version;
  for (const auto& f : version.files) {
    SLUICE_ASSIGN_OR_RETURN(auto entry, EntryOf(f, UriOf(f.path), version.version, table.schema, spec));
    if (entry.status == EntryStatus::kAdded) {
      ++manifest.added_files_count;
      manifest.added_rows_count += f.rows;
    } else {
      ++manifest.existing_files_count;
      manifest.existing_rows_count += f.rows;
    }
    manifest.min_sequence_number = std::min(manifest.min_sequence_number, f.version_added);
    entries.push_back(std::move(entry));
  }

  SnapshotFiles files;
  files.table_uri = UriOf(table.location);
  files.metadata_uri = UriOf(MetadataKey(table, fmt::format("v{}.metadata.json", version.version)));
  std::string list_key = MetadataKey(table, fmt::format("snap-{}-{}.avro", version.version, attempt));
  files.manifest_list_uri = UriOf(list_key);
  SLUICE_ASSIGN_OR_RETURN(auto metadata, NextMetadata(previous, version, files, version.previous_metadata));

  std::vector<ManifestFile> manifests;
  if (!entries.empty()) {
    ManifestHeader header;
    header.schema_json = nlohmann::json(metadata["schemas"].back()).dump();
    for (const auto& s : metadata["schemas"]) {
      if (s["schema-id"] == metadata["current-schema-id"]) header.schema_json = s.dump();
    }
    header.schema_id = metadata["current-schema-id"].get<int64_t>();
    header.spec = spec;
    std::string manifest_key = MetadataKey(table, fmt::format("{}-m0.avro", attempt));
    std::string bytes = WriteManifest(header, entries, manifest_key);
    SLUICE_TRY(lake_.Put(manifest_key, bytes));
    manifest.manifest_path = UriOf(manifest_key);
    manifest.manifest_length = static_cast<int64_t>(bytes.size());
    manifest.partitions = SummarizePartitions(spec, entries);
    manifests.push_back(std::move(manifest));
  }
  SnapshotHeader snapshot;
  snapshot.snapshot_id = version.version;
  snapshot.sequence_number = version.version;
  for (const auto& s : metadata["snapshots"]) {
    if (s["snapshot-id"] == version.version && s.contains("parent-snapshot-id")) {
      snapshot.parent_snapshot_id = s["parent-snapshot-id"].get<int64_t>();
    }
  }
  SLUICE_TRY(lake_.Put(list_key, WriteManifestList(snapshot, manifests, list_key)));
  SLUICE_TRY(lake_.Put(MetadataKey(table, fmt::format("v{}.metadata.json", version.version)), metadata.dump(2)));
  return files.metadata_uri;
}

void IcebergPublisher::Published(const catalog::TableInfo& table, const std::string& metadata_location) {
  (void)metadata_location;
  Status st = lake_.Put(MetadataKey(table, "version-hint.text"), std::to_string(table.current_version));
  if (!st.ok()) {
    spdlog::warn(
        "table {}: could not update metadata/version-hint.text ({}); the catalog's Iceberg pointer is "
        "current, and the next commit writes the hint again",
        table.name.ToString(), st.message());
  }
}

Result<std::string> ExportTable(catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                                const catalog::TableName& name) {
  SLUICE_ASSIGN_OR_RETURN(auto table, catalog.GetTable(name));
  if (!table) return Status::NotFound("table {} is not in catalog {}", name.ToString(), catalog.Describe());
  if (table->current_version == 0) {
    return Status::Invalid("table {} has no committed version yet; nothing to export", name.ToString());
  }
  SLUICE_ASSIGN_OR_RETURN(auto pointer, catalog.GetTableFormatPointer(name));
  SLUICE_ASSIGN_OR_RETURN(auto history, catalog.History(name));
  IcebergPublisher publisher(lake);
  std::optional<std::string> previous;
  std::string location;
  catalog::TableInfo at = *table;
  for (const auto& v : history) {
    catalog::PublishedVersion version;
    at.schema = v.schema;
    at.current_version = v.version;
    version.table = at;
    version.version = v.version;
    version.committed_at = v.committed_at;
    SLUICE_ASSIGN_OR_RETURN(version.operation, catalog::ParseWriteOperation(v.operation));
    version.run_id = v.run_id;
    version.files_added = v.files_added;
    version.files_removed = v.files_removed;
    version.rows_added = v.rows_added;
    version.rows_removed = v.rows_removed;
    SLUICE_ASSIGN_OR_RETURN(version.files, catalog.ListFiles(name, v.version));
    version.previous_metadata = previous;
    SLUICE_ASSIGN_OR_RETURN(location, publisher.Prepare(version));
    previous = location;
  }
  SLUICE_TRY(catalog.SetTableFormatPointer(
      name, pointer ? std::optional<std::string>(pointer->metadata_location) : std::nullopt, location));
  publisher.Published(*table, location);
  return location;
}

Result<int64_t> ExpireSnapshots(catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                                const catalog::TableInfo& table, TimePoint cutoff) {
  SLUICE_ASSIGN_OR_RETURN(auto pointer, catalog.GetTableFormatPointer(table.name));
  if (!pointer) return int64_t{0};
  IcebergPublisher publisher(lake);
  SLUICE_ASSIGN_OR_RETURN(std::string key, publisher.KeyOf(pointer->metadata_location));
  SLUICE_ASSIGN_OR_RETURN(std::string text, lake.Get(key));
  nlohmann::json metadata = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (metadata.is_discarded() || !metadata.is_object()) {
    return Status::DataError(
        "the Iceberg metadata of {} ({}) is not valid JSON; rebuild it with `sluice catalog "
        "export-iceberg {}` before vacuuming",
        table.name.ToString(), pointer->metadata_location, table.name.ToString());
  }
  const int64_t cutoff_ms = ToUnixMicros(cutoff) / 1000;
  const auto current = metadata.value("current-snapshot-id", int64_t{-1});
  auto expired = [&](const nlohmann::json& s, const char* id_key) {
    return s.value(id_key, int64_t{-1}) != current && s.value("timestamp-ms", int64_t{0}) < cutoff_ms;
  };
  nlohmann::json kept = nlohmann::json::array(), kept_log = nlohmann::json::array();
  int64_t count = 0;
  for (const auto& s : metadata.value("snapshots", nlohmann::json::array())) {
    if (expired(s, "snapshot-id")) {
      ++count;
    } else {
      kept.push_back(s);
    }
  }
  if (count == 0) return int64_t{0};
  for (const auto& entry : metadata.value("snapshot-log", nlohmann::json::array())) {
    if (!expired(entry, "snapshot-id")) kept_log.push_back(entry);
  }
  // A kept snapshot whose parent expired has no parent any more.
  std::set<int64_t> kept_ids;
  for (const auto& s : kept) kept_ids.insert(s.value("snapshot-id", int64_t{-1}));
  for (auto& s : kept) {
    if (s.contains("parent-snapshot-id") && kept_ids.count(s["parent-snapshot-id"].get<int64_t>()) == 0) {
      s.erase("parent-snapshot-id");
    }
  }
  metadata["snapshots"] = std::move(kept);
  metadata["snapshot-log"] = std::move(kept_log);
  auto log = metadata.value("metadata-log", nlohmann::json::array());
  log.push_back(
      {{"timestamp-ms", metadata.value("last-updated-ms", cutoff_ms)}, {"metadata-file", pointer->metadata_location}});
  metadata["metadata-log"] = std::move(log);
  std::string expired_key = MetadataKey(table, fmt::format("v{}-expired-{}.metadata.json", current, cutoff_ms));
  SLUICE_TRY(lake.Put(expired_key, metadata.dump(2)));
  SLUICE_TRY(catalog.SetTableFormatPointer(table.name, pointer->metadata_location, publisher.UriOf(expired_key)));
  return count;
}

}  // namespace sluice::iceberg
