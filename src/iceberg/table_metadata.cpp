#include "iceberg/table_metadata.hpp"

#include "common/hash.hpp"
#include "common/strings.hpp"
#include "engine/type_tree.hpp"

namespace sluice::iceberg {
namespace {

using nlohmann::json;

int64_t Millis(TimePoint t) { return ToUnixMicros(t) / 1000; }

const char* OperationName(catalog::WriteOperation operation) {
  switch (operation) {
    case catalog::WriteOperation::kAppend: return "append";
    case catalog::WriteOperation::kOverwrite: return "overwrite";
    case catalog::WriteOperation::kDelete: return "delete";
    case catalog::WriteOperation::kCompact: return "replace";
  }
  return "overwrite";
}

}  // namespace

std::string UuidFrom(const std::string& seed) {
  std::string hex = Sha256Hex(seed).substr(0, 32);
  hex[12] = '4';
  hex[16] = "89ab"[std::stoi(hex.substr(16, 1), nullptr, 16) % 4];
  return fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4), hex.substr(16, 4),
                     hex.substr(20, 12));
}

namespace {

/// The Iceberg type of `tree` whose nested fields take their ids from `ids` (depth first, as catalog::AssignFieldIds
/// gave them); nullopt when some part has no Iceberg type.
std::optional<json> NestedType(const engine::TypeTree& tree, const std::vector<int64_t>& ids, size_t* next) {
  using Kind = engine::TypeTree::Kind;
  if (tree.kind == Kind::kUnsupported) return std::nullopt;
  if (tree.kind == Kind::kPrimitive) {
    auto type = IcebergType(tree.name);
    if (!type) return std::nullopt;
    return json(*type);
  }
  std::vector<std::pair<int64_t, json>> children;
  for (const auto& [name, child] : tree.children) {
    int64_t id = ids.at((*next)++);
    auto type = NestedType(child, ids, next);
    if (!type) return std::nullopt;
    children.emplace_back(id, std::move(*type));
  }
  if (tree.kind == Kind::kList) {
    return json{{"type", "list"},
                {"element-id", children[0].first},
                {"element", children[0].second},
                {"element-required", false}};
  }
  if (tree.kind == Kind::kMap) {
    return json{{"type", "map"},
                {"key-id", children[0].first},
                {"key", children[0].second},
                {"value-id", children[1].first},
                {"value", children[1].second},
                {"value-required", false}};
  }
  json fields = json::array();
  for (size_t i = 0; i < children.size(); ++i) {
    fields.push_back({{"id", children[i].first},
                      {"name", tree.children[i].first},
                      {"required", false},
                      {"type", std::move(children[i].second)}});
  }
  return json{{"type", "struct"}, {"fields", std::move(fields)}};
}

/// The Iceberg type of a column: a primitive's name, or a nested type when the column has ids for all its fields.
std::optional<json> ColumnType(const catalog::Column& column) {
  if (auto primitive = IcebergType(column.type)) return json(*primitive);
  auto tree = engine::ParseTypeName(column.type);
  if (!tree.ok() || engine::NestedFieldCount(*tree) != static_cast<int>(column.nested_field_ids.size()) ||
      column.nested_field_ids.empty()) {
    return std::nullopt;
  }
  size_t next = 0;
  return NestedType(*tree, column.nested_field_ids, &next);
}

/// The name mapping of a nested type's fields (for files written without field ids).
json NestedNameMapping(const json& type) {
  json fields = json::array();
  if (!type.is_object()) return fields;
  std::string kind = type.value("type", "");
  if (kind == "struct") {
    for (const auto& f : type["fields"]) {
      json entry = {{"field-id", f["id"]}, {"names", json::array({f["name"]})}};
      if (json inner = NestedNameMapping(f["type"]); !inner.empty()) entry["fields"] = std::move(inner);
      fields.push_back(std::move(entry));
    }
  } else if (kind == "list") {
    json entry = {{"field-id", type["element-id"]}, {"names", json::array({"element"})}};
    if (json inner = NestedNameMapping(type["element"]); !inner.empty()) entry["fields"] = std::move(inner);
    fields.push_back(std::move(entry));
  } else if (kind == "map") {
    for (const char* part : {"key", "value"}) {
      json entry = {{"field-id", type[std::string(part) + "-id"]}, {"names", json::array({part})}};
      if (json inner = NestedNameMapping(type[part]); !inner.empty()) entry["fields"] = std::move(inner);
      fields.push_back(std::move(entry));
    }
  }
  return fields;
}

}  // namespace

json IcebergSchema(const catalog::Schema& schema, int64_t schema_id, std::vector<std::string>* skipped) {
  json fields = json::array();
  for (const auto& c : catalog::WithFieldIds(schema).columns) {
    auto type = ColumnType(c);
    if (!type) {
      if (skipped != nullptr) skipped->push_back(c.name);
      continue;
    }
    fields.push_back({{"id", c.field_id}, {"name", c.name}, {"required", false}, {"type", std::move(*type)}});
  }
  return {{"type", "struct"}, {"schema-id", schema_id}, {"fields", std::move(fields)}};
}

Result<std::vector<PartitionField>> IdentitySpec(const catalog::TableInfo& table) {
  catalog::Schema schema = catalog::WithFieldIds(table.schema);
  std::vector<PartitionField> spec;
  for (const auto& name : table.partition_columns) {
    const catalog::Column* column = schema.Find(name);
    if (column == nullptr) {
      return Status::Invalid(
          "table {} is partitioned by '{}', which is not a column of its schema; Iceberg needs partition values from "
          "a column (set table_format: none, or make '{}' a column)",
          table.name.ToString(), name, name);
    }
    auto type = IcebergType(column->type);
    if (!type || !IsPartitionType(*type)) {
      return Status::Invalid(
          "table {} is partitioned by '{}' of type {}; Iceberg metadata is written for partitions of type BOOLEAN, "
          "INTEGER, BIGINT, DATE, DOUBLE or VARCHAR only (partition by one of those, or set table_format: none)",
          table.name.ToString(), name, column->type);
    }
    spec.push_back({name, column->field_id, 1000 + static_cast<int64_t>(spec.size()), *type});
  }
  return spec;
}

std::string NameMapping(const catalog::Schema& schema) {
  json mapping = json::array();
  for (const auto& c : catalog::WithFieldIds(schema).columns) {
    json entry = {{"field-id", c.field_id}, {"names", json::array({c.name})}};
    if (auto type = ColumnType(c)) {
      if (json nested = NestedNameMapping(*type); !nested.empty()) entry["fields"] = std::move(nested);
    }
    mapping.push_back(std::move(entry));
  }
  return mapping.dump();
}

Result<ManifestEntry> EntryOf(const catalog::DataFile& file, const std::string& file_uri, int64_t version,
                              const catalog::Schema& schema, const std::vector<PartitionField>& spec) {
  ManifestEntry entry;
  bool added = file.version_added == version;
  entry.status = added ? EntryStatus::kAdded : EntryStatus::kExisting;
  entry.snapshot_id = added ? version : file.version_added;
  entry.sequence_number = file.version_added;
  entry.file_path = file_uri;
  entry.record_count = file.rows;
  entry.file_size_in_bytes = file.bytes;
  for (const auto& field : spec) {
    const std::string* text = nullptr;
    for (const auto& [column, value] : file.partition_values) {
      if (column == field.name) text = &value;
    }
    if (text == nullptr) {
      return Status::DataError("file '{}' has no value for partition column '{}' in its path; Iceberg needs one",
                               file.path, field.name);
    }
    auto value = ParsePartitionValue(field.type, *text);
    if (!value) {
      return Status::DataError("file '{}': partition value '{}' of column '{}' is not a {}", file.path, *text,
                               field.name, field.type);
    }
    entry.partition.push_back(std::move(*value));
  }
  if (file.column_stats.empty()) return entry;
  json stats = json::parse(file.column_stats, nullptr, /*allow_exceptions=*/false);
  if (!stats.is_object()) return entry;  // unreadable statistics only cost pruning
  for (const auto& c : catalog::WithFieldIds(schema).columns) {
    auto it = stats.find(c.name);
    auto type = IcebergType(c.type);
    if (it == stats.end() || !it->is_object() || !type) continue;
    auto id = static_cast<int32_t>(c.field_id);
    if (it->contains("values") && (*it)["values"].is_number_integer()) {
      entry.value_counts.emplace_back(id, (*it)["values"].get<int64_t>());
    }
    if (it->contains("nulls") && (*it)["nulls"].is_number_integer()) {
      entry.null_value_counts.emplace_back(id, (*it)["nulls"].get<int64_t>());
    }
    if (it->contains("min") && (*it)["min"].is_string()) {
      if (auto bound = SerializeBound(*type, (*it)["min"].get<std::string>()))
        entry.lower_bounds.emplace_back(id, *bound);
    }
    if (it->contains("max") && (*it)["max"].is_string()) {
      if (auto bound = SerializeBound(*type, (*it)["max"].get<std::string>()))
        entry.upper_bounds.emplace_back(id, *bound);
    }
  }
  return entry;
}

Result<json> NextMetadata(const std::optional<json>& previous, const catalog::PublishedVersion& version,
                          const SnapshotFiles& files, const std::optional<std::string>& previous_uri) {
  const catalog::TableInfo& table = version.table;
  SLUICE_ASSIGN_OR_RETURN(auto spec, IdentitySpec(table));
  json metadata = previous.value_or(json::object());
  if (!metadata.is_object()) return Status::DataError("the table's current Iceberg metadata is not a JSON object");

  // The schema: reuse the newest one when its fields are the same, else add one.
  json schemas = metadata.value("schemas", json::array());
  int64_t schema_id = 0;
  json schema = IcebergSchema(table.schema, 0, nullptr);
  bool found = false;
  for (const auto& s : schemas) {
    schema_id = std::max(schema_id, s.value("schema-id", int64_t{0}));
    if (s.value("fields", json::array()) == schema["fields"]) {
      found = true;
      schema["schema-id"] = s.value("schema-id", int64_t{0});
    }
  }
  if (!found) {
    if (!schemas.empty()) ++schema_id;
    schema["schema-id"] = schema_id;
    schemas.push_back(schema);
  }
  int64_t current_schema_id = schema["schema-id"].get<int64_t>();

  int64_t last_column_id = metadata.value("last-column-id", int64_t{0});
  for (const auto& c : catalog::WithFieldIds(table.schema).columns)
    last_column_id = std::max(last_column_id, c.field_id);
  last_column_id = std::max(last_column_id, table.last_column_id);

  std::optional<int64_t> parent;
  if (metadata.contains("current-snapshot-id") && metadata["current-snapshot-id"].is_number_integer() &&
      metadata["current-snapshot-id"].get<int64_t>() >= 0) {
    parent = metadata["current-snapshot-id"].get<int64_t>();
  }
  int64_t total_records = 0, total_bytes = 0;
  for (const auto& f : version.files) {
    total_records += f.rows;
    total_bytes += f.bytes;
  }
  json summary = {
      {"operation", OperationName(version.operation)},
      {"added-data-files", std::to_string(version.files_added)},
      {"deleted-data-files", std::to_string(version.files_removed)},
      {"added-records", std::to_string(version.rows_added)},
      {"deleted-records", std::to_string(version.rows_removed)},
      {"added-files-size", std::to_string(version.bytes_added)},
      {"removed-files-size", std::to_string(version.bytes_removed)},
      {"total-records", std::to_string(total_records)},
      {"total-files-size", std::to_string(total_bytes)},
      {"total-data-files", std::to_string(version.files.size())},
      {"total-delete-files", "0"},
      {"total-position-deletes", "0"},
      {"total-equality-deletes", "0"},
      {"sluice.run-id", version.run_id.value},
  };
  json snapshot = {{"snapshot-id", version.version},
                   {"sequence-number", version.version},
                   {"timestamp-ms", Millis(version.committed_at)},
                   {"manifest-list", files.manifest_list_uri},
                   {"summary", std::move(summary)},
                   {"schema-id", current_schema_id}};
  if (parent) snapshot["parent-snapshot-id"] = *parent;

  json snapshots = metadata.value("snapshots", json::array());
  snapshots.push_back(std::move(snapshot));
  json snapshot_log = metadata.value("snapshot-log", json::array());
  snapshot_log.push_back({{"timestamp-ms", Millis(version.committed_at)}, {"snapshot-id", version.version}});
  json metadata_log = metadata.value("metadata-log", json::array());
  if (previous_uri && previous) {
    metadata_log.push_back({{"timestamp-ms", metadata.value("last-updated-ms", Millis(version.committed_at))},
                            {"metadata-file", *previous_uri}});
  }
  json properties = metadata.value("properties", json::object());
  properties["schema.name-mapping.default"] = NameMapping(table.schema);
  properties["write.format.default"] = "parquet";

  json next = {
      {"format-version", 2},
      {"table-uuid",
       metadata.value("table-uuid", UuidFrom(files.table_uri + "\n" + std::to_string(ToUnixMicros(table.created_at))))},
      {"location", files.table_uri},
      {"last-sequence-number", version.version},
      {"last-updated-ms", Millis(version.committed_at)},
      {"last-column-id", last_column_id},
      {"current-schema-id", current_schema_id},
      {"schemas", std::move(schemas)},
      {"default-spec-id", 0},
      {"partition-specs", json::array({{{"spec-id", 0}, {"fields", json::parse(PartitionSpecFieldsJson(spec))}}})},
      {"last-partition-id", spec.empty() ? 999 : spec.back().field_id},
      {"default-sort-order-id", 0},
      {"sort-orders", json::array({{{"order-id", 0}, {"fields", json::array()}}})},
      {"properties", std::move(properties)},
      {"current-snapshot-id", version.version},
      {"refs", {{"main", {{"snapshot-id", version.version}, {"type", "branch"}}}}},
      {"snapshots", std::move(snapshots)},
      {"snapshot-log", std::move(snapshot_log)},
      {"metadata-log", std::move(metadata_log)},
  };
  return next;
}

}  // namespace sluice::iceberg
