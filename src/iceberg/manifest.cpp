#include "iceberg/manifest.hpp"

#include <nlohmann/json.hpp>

#include "iceberg/avro.hpp"

namespace sluice::iceberg {
namespace {

using nlohmann::json;

json Optional(json type) { return json::array({"null", std::move(type)}); }

json Field(const std::string& name, json type, int64_t id) {
  return {{"name", name}, {"type", std::move(type)}, {"field-id", id}};
}

json OptionalField(const std::string& name, json type, int64_t id) {
  return {{"name", name}, {"type", Optional(std::move(type))}, {"default", nullptr}, {"field-id", id}};
}

/// Iceberg keeps maps with int keys in Avro as arrays of key/value records named k<key id>_v<value id>.
json IntKeyedMap(int64_t key_id, const std::string& value_type, int64_t value_id) {
  json record = {{"type", "record"},
                 {"name", "k" + std::to_string(key_id) + "_v" + std::to_string(value_id)},
                 {"fields", json::array({Field("key", "int", key_id), Field("value", value_type, value_id)})}};
  return {{"type", "array"}, {"items", std::move(record)}, {"logicalType", "map"}};
}

json PartitionAvroType(const std::string& type) {
  if (type == "date") return {{"type", "int"}, {"logicalType", "date"}};
  if (type == "int" || type == "long" || type == "boolean" || type == "double" || type == "string") return type;
  return "string";  // not reached: the publisher refuses other partition types
}

void EncodePartitionValue(AvroEncoder& out, const std::string& type, const PartitionValue& value) {
  if (value.is_null) {
    out.Null();
    return;
  }
  out.Branch(1);
  if (type == "string") {
    out.String(value.text);
  } else if (type == "double") {
    out.Double(value.real);
  } else if (type == "boolean") {
    out.Boolean(value.integer != 0);
  } else {
    out.Long(value.integer);  // int, long and date share the varint encoding
  }
}

template <typename Value, typename Write>
void EncodeMap(AvroEncoder& out, const std::vector<std::pair<int32_t, Value>>& pairs, Write write) {
  if (pairs.empty()) {
    out.Null();
    return;
  }
  out.Branch(1);
  out.ArrayStart(static_cast<int64_t>(pairs.size()));
  for (const auto& [key, value] : pairs) {
    out.Int(key);
    write(value);
  }
  out.ArrayEnd();
}

void EncodeOptionalBytes(AvroEncoder& out, const std::optional<std::string>& value) {
  if (!value) {
    out.Null();
    return;
  }
  out.Branch(1);
  out.Bytes(*value);
}

}  // namespace

std::string PartitionSpecFieldsJson(const std::vector<PartitionField>& spec) {
  json fields = json::array();
  for (const auto& f : spec) {
    fields.push_back(
        {{"name", f.name}, {"transform", "identity"}, {"source-id", f.source_id}, {"field-id", f.field_id}});
  }
  return fields.dump();
}

std::string ManifestEntrySchema(const std::vector<PartitionField>& spec) {
  json partition_fields = json::array();
  for (const auto& f : spec) partition_fields.push_back(OptionalField(f.name, PartitionAvroType(f.type), f.field_id));
  json partition = {{"type", "record"}, {"name", "r102"}, {"fields", std::move(partition_fields)}};
  json data_file_fields = json::array({
      Field("content", "int", 134),
      Field("file_path", "string", 100),
      Field("file_format", "string", 101),
      Field("partition", std::move(partition), 102),
      Field("record_count", "long", 103),
      Field("file_size_in_bytes", "long", 104),
      OptionalField("column_sizes", IntKeyedMap(117, "long", 118), 108),
      OptionalField("value_counts", IntKeyedMap(119, "long", 120), 109),
      OptionalField("null_value_counts", IntKeyedMap(121, "long", 122), 110),
      OptionalField("nan_value_counts", IntKeyedMap(138, "long", 139), 137),
      OptionalField("lower_bounds", IntKeyedMap(126, "bytes", 127), 125),
      OptionalField("upper_bounds", IntKeyedMap(129, "bytes", 130), 128),
      OptionalField("key_metadata", "bytes", 131),
      OptionalField("split_offsets", json({{"type", "array"}, {"items", "long"}, {"element-id", 133}}), 132),
      OptionalField("equality_ids", json({{"type", "array"}, {"items", "int"}, {"element-id", 136}}), 135),
      OptionalField("sort_order_id", "int", 140),
  });
  json data_file = {{"type", "record"}, {"name", "r2"}, {"fields", std::move(data_file_fields)}};
  json schema = {{"type", "record"},
                 {"name", "manifest_entry"},
                 {"fields", json::array({Field("status", "int", 0), OptionalField("snapshot_id", "long", 1),
                                         OptionalField("sequence_number", "long", 3),
                                         OptionalField("file_sequence_number", "long", 4),
                                         Field("data_file", std::move(data_file), 2)})}};
  return schema.dump();
}

std::string ManifestListSchema() {
  json summary = {
      {"type", "record"},
      {"name", "r508"},
      {"fields",
       json::array({Field("contains_null", "boolean", 509), OptionalField("contains_nan", "boolean", 518),
                    OptionalField("lower_bound", "bytes", 510), OptionalField("upper_bound", "bytes", 511)})}};
  json schema = {
      {"type", "record"},
      {"name", "manifest_file"},
      {"fields",
       json::array({Field("manifest_path", "string", 500), Field("manifest_length", "long", 501),
                    Field("partition_spec_id", "int", 502), Field("content", "int", 517),
                    Field("sequence_number", "long", 515), Field("min_sequence_number", "long", 516),
                    Field("added_snapshot_id", "long", 503), Field("added_files_count", "int", 504),
                    Field("existing_files_count", "int", 505), Field("deleted_files_count", "int", 506),
                    Field("added_rows_count", "long", 512), Field("existing_rows_count", "long", 513),
                    Field("deleted_rows_count", "long", 514),
                    OptionalField("partitions",
                                  json({{"type", "array"}, {"items", std::move(summary)}, {"element-id", 508}}), 507),
                    OptionalField("key_metadata", "bytes", 519)})}};
  return schema.dump();
}

std::string WriteManifest(const ManifestHeader& header, const std::vector<ManifestEntry>& entries,
                          const std::string& sync_seed) {
  AvroEncoder out;
  for (const auto& e : entries) {
    out.Int(static_cast<int32_t>(e.status));
    out.Branch(1);
    out.Long(e.snapshot_id);
    if (e.status == EntryStatus::kAdded) {  // inherited from the manifest list at read time
      out.Null();
      out.Null();
    } else {
      out.Branch(1);
      out.Long(e.sequence_number);
      out.Branch(1);
      out.Long(e.sequence_number);
    }
    out.Int(0);  // content: data
    out.String(e.file_path);
    out.String("PARQUET");
    for (size_t i = 0; i < header.spec.size(); ++i) {
      EncodePartitionValue(out, header.spec[i].type, i < e.partition.size() ? e.partition[i] : PartitionValue{true});
    }
    out.Long(e.record_count);
    out.Long(e.file_size_in_bytes);
    out.Null();  // column_sizes
    EncodeMap(out, e.value_counts, [&](int64_t v) { out.Long(v); });
    EncodeMap(out, e.null_value_counts, [&](int64_t v) { out.Long(v); });
    out.Null();  // nan_value_counts
    EncodeMap(out, e.lower_bounds, [&](const std::string& v) { out.Bytes(v); });
    EncodeMap(out, e.upper_bounds, [&](const std::string& v) { out.Bytes(v); });
    out.Null();  // key_metadata
    out.Null();  // split_offsets
    out.Null();  // equality_ids
    out.Null();  // sort_order_id
  }
  std::vector<std::pair<std::string, std::string>> metadata = {
      {"schema", header.schema_json},
      {"schema-id", std::to_string(header.schema_id)},
      {"partition-spec", PartitionSpecFieldsJson(header.spec)},
      {"partition-spec-id", "0"},
      {"format-version", "2"},
      {"content", "data"},
  };
  return AvroContainerFile(ManifestEntrySchema(header.spec), metadata, static_cast<int64_t>(entries.size()),
                           out.bytes(), sync_seed);
}

std::vector<FieldSummary> SummarizePartitions(const std::vector<PartitionField>& spec,
                                              const std::vector<ManifestEntry>& entries) {
  std::vector<FieldSummary> summaries(spec.size());
  for (size_t i = 0; i < spec.size(); ++i) {
    std::optional<PartitionValue> lower, upper;
    auto less = [&](const PartitionValue& a, const PartitionValue& b) {
      if (spec[i].type == "string") return a.text < b.text;
      if (spec[i].type == "double") return a.real < b.real;
      return a.integer < b.integer;
    };
    for (const auto& e : entries) {
      if (i >= e.partition.size() || e.partition[i].is_null) {
        summaries[i].contains_null = true;
        continue;
      }
      const PartitionValue& v = e.partition[i];
      if (!lower || less(v, *lower)) lower = v;
      if (!upper || less(*upper, v)) upper = v;
    }
    if (lower) summaries[i].lower_bound = SerializeBound(spec[i].type, CanonicalText(spec[i].type, *lower));
    if (upper) summaries[i].upper_bound = SerializeBound(spec[i].type, CanonicalText(spec[i].type, *upper));
  }
  return summaries;
}

std::string WriteManifestList(const SnapshotHeader& snapshot, const std::vector<ManifestFile>& manifests,
                              const std::string& sync_seed) {
  AvroEncoder out;
  for (const auto& m : manifests) {
    out.String(m.manifest_path);
    out.Long(m.manifest_length);
    out.Int(0);  // partition_spec_id
    out.Int(0);  // content: data
    out.Long(m.sequence_number);
    out.Long(m.min_sequence_number);
    out.Long(m.added_snapshot_id);
    out.Int(m.added_files_count);
    out.Int(m.existing_files_count);
    out.Int(m.deleted_files_count);
    out.Long(m.added_rows_count);
    out.Long(m.existing_rows_count);
    out.Long(m.deleted_rows_count);
    out.Branch(1);
    out.ArrayStart(static_cast<int64_t>(m.partitions.size()));
    for (const auto& p : m.partitions) {
      out.Boolean(p.contains_null);
      out.Null();  // contains_nan: unknown
      EncodeOptionalBytes(out, p.lower_bound);
      EncodeOptionalBytes(out, p.upper_bound);
    }
    if (!m.partitions.empty()) out.ArrayEnd();
    out.Null();  // key_metadata
  }
  std::vector<std::pair<std::string, std::string>> metadata = {
      {"snapshot-id", std::to_string(snapshot.snapshot_id)},
      {"parent-snapshot-id", snapshot.parent_snapshot_id ? std::to_string(*snapshot.parent_snapshot_id) : "null"},
      {"sequence-number", std::to_string(snapshot.sequence_number)},
      {"format-version", "2"},
  };
  return AvroContainerFile(ManifestListSchema(), metadata, static_cast<int64_t>(manifests.size()), out.bytes(),
                           sync_seed);
}

}  // namespace sluice::iceberg
