#include "iceberg/avro.hpp"

#include <cstring>

#include "common/hash.hpp"

namespace sluice::iceberg {

void AvroEncoder::Long(int64_t value) {
  uint64_t zigzag = (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
  while (zigzag >= 0x80) {
    bytes_.push_back(static_cast<char>((zigzag & 0x7f) | 0x80));
    zigzag >>= 7;
  }
  bytes_.push_back(static_cast<char>(zigzag));
}

void AvroEncoder::Double(double value) {
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  for (int i = 0; i < 8; ++i) bytes_.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

void AvroEncoder::Bytes(std::string_view value) {
  Long(static_cast<int64_t>(value.size()));
  bytes_.append(value);
}

std::string AvroContainerFile(std::string_view schema_json,
                              const std::vector<std::pair<std::string, std::string>>& metadata, int64_t record_count,
                              std::string_view records, std::string_view sync_seed) {
  // The marker only has to be unlikely to occur in the data; a hash of the seed (unique per file) is.
  std::string sync = HmacSha256Raw("avro sync marker", sync_seed).substr(0, 16);
  AvroEncoder out;
  std::string file = "Obj\x01";
  out.Long(static_cast<int64_t>(metadata.size() + 2));  // a map: one block of entries, then 0
  out.String("avro.schema");
  out.Bytes(schema_json);
  out.String("avro.codec");
  out.Bytes("null");
  for (const auto& [key, value] : metadata) {
    out.String(key);
    out.Bytes(value);
  }
  out.Long(0);
  file += out.Take();
  file += sync;
  if (record_count > 0) {
    AvroEncoder block;
    block.Long(record_count);
    block.Long(static_cast<int64_t>(records.size()));
    file += block.Take();
    file += records;
    file += sync;
  }
  return file;
}

}  // namespace sluice::iceberg
