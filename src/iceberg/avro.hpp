#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The Avro binary encoding and object container format (Avro specification 1.11, "Binary Encoding" and
// "Object Container Files"), as much as Iceberg's manifests need: no codec, one block of records.
namespace sluice::iceberg {

/// Appends Avro-encoded values to a byte string. The caller writes values in the order of its schema.
class AvroEncoder {
 public:
  /// int and long share the encoding: zigzag, then a little-endian base-128 varint.
  void Long(int64_t value);
  void Int(int32_t value) { Long(value); }
  void Boolean(bool value) { bytes_.push_back(value ? '\1' : '\0'); }
  void Double(double value);
  /// Length-prefixed bytes (also Avro's string).
  void Bytes(std::string_view value);
  void String(std::string_view value) { Bytes(value); }
  /// The branch of a union: 0 is "null" in every union written here, whose value is then absent.
  void Branch(int64_t index) { Long(index); }
  void Null() { Branch(0); }
  /// An array of `count` items (the items follow, then End()); count 0 writes the end marker alone.
  void ArrayStart(int64_t count) { Long(count); }
  void ArrayEnd() { Long(0); }

  const std::string& bytes() const { return bytes_; }
  std::string Take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

/// A whole object container file: header (magic, metadata with avro.schema and avro.codec "null", sync marker),
/// then one block of `record_count` records encoded in `records`. `sync_seed` picks the 16-byte sync marker.
std::string AvroContainerFile(std::string_view schema_json,
                              const std::vector<std::pair<std::string, std::string>>& metadata, int64_t record_count,
                              std::string_view records, std::string_view sync_seed);

}  // namespace sluice::iceberg
