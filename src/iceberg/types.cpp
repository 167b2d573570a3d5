#include "iceberg/types.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

#include "common/strings.hpp"
#include "storage/lake_layout.hpp"

namespace sluice::iceberg {
namespace {

std::string Upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
  return text;
}

std::optional<int64_t> ParseInteger(const std::string& text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> ParseReal(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return value;
}

std::string LittleEndian(uint64_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  return out;
}

/// Big-endian two's complement in the fewest bytes (the spec's decimal form) of an unscaled value given as
/// decimal text; only values that fit 64 bits (decimals up to 18 digits) are handled.
std::optional<std::string> DecimalBytes(const std::string& unscaled) {
  auto value = ParseInteger(unscaled);
  if (!value) return std::nullopt;
  std::string out;
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((static_cast<uint64_t>(*value) >> (8 * i)) & 0xff));
  // Drop leading bytes that only repeat the sign.
  size_t start = 0;
  while (start + 1 < out.size()) {
    unsigned char first = static_cast<unsigned char>(out[start]);
    unsigned char next = static_cast<unsigned char>(out[start + 1]);
    bool redundant = (first == 0x00 && (next & 0x80) == 0) || (first == 0xff && (next & 0x80) != 0);
    if (!redundant) break;
    ++start;
  }
  return out.substr(start);
}

}  // namespace

std::optional<std::string> IcebergType(const std::string& duckdb_type) {
  std::string t = Upper(Trim(duckdb_type));
  if (t == "BOOLEAN") return "boolean";
  if (t == "TINYINT" || t == "SMALLINT" || t == "INTEGER" || t == "UTINYINT" || t == "USMALLINT") return "int";
  if (t == "BIGINT" || t == "UINTEGER") return "long";
  if (t == "FLOAT") return "float";
  if (t == "DOUBLE") return "double";
  if (t == "DATE") return "date";
  if (t == "TIME") return "time";
  if (t == "TIMESTAMP") return "timestamp";
  if (t == "TIMESTAMP WITH TIME ZONE") return "timestamptz";
  if (t == "VARCHAR") return "string";
  if (t == "BLOB") return "binary";
  if (t == "UUID") return "uuid";
  if (StartsWith(t, "DECIMAL(") && t.back() == ')') {
    auto comma = t.find(',');
    if (comma == std::string::npos) return std::nullopt;
    auto precision = ParseInteger(Trim(t.substr(8, comma - 8)));
    auto scale = ParseInteger(Trim(t.substr(comma + 1, t.size() - comma - 2)));
    if (!precision || !scale) return std::nullopt;
    return "decimal(" + std::to_string(*precision) + ", " + std::to_string(*scale) + ")";
  }
  return std::nullopt;
}

std::optional<std::string> SerializeBound(const std::string& type, const std::string& canonical) {
  if (type == "boolean") {
    if (canonical == "true") return std::string(1, '\1');
    if (canonical == "false") return std::string(1, '\0');
    return std::nullopt;
  }
  if (type == "int" || type == "date") {
    auto value = ParseInteger(canonical);
    if (!value) return std::nullopt;
    return LittleEndian(static_cast<uint64_t>(*value), 4);
  }
  if (type == "long" || type == "time" || type == "timestamp" || type == "timestamptz") {
    auto value = ParseInteger(canonical);
    if (!value) return std::nullopt;
    return LittleEndian(static_cast<uint64_t>(*value), 8);
  }
  if (type == "float" || type == "double") {
    auto value = ParseReal(canonical);
    if (!value || *value != *value) return std::nullopt;  // NaN is never a bound
    if (type == "float") {
      float narrow = static_cast<float>(*value);
      uint32_t bits = 0;
      std::memcpy(&bits, &narrow, sizeof bits);
      return LittleEndian(bits, 4);
    }
    uint64_t bits = 0;
    std::memcpy(&bits, &*value, sizeof bits);
    return LittleEndian(bits, 8);
  }
  if (type == "string") {
    // A long text is no useful bound, and a cut one needs care for the upper side: leave those out.
    if (canonical.size() > 64) return std::nullopt;
    return canonical;
  }
  if (StartsWith(type, "decimal(")) return DecimalBytes(canonical);
  return std::nullopt;
}

std::optional<int64_t> DaysSinceEpoch(const std::string& date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return std::nullopt;
  auto y = ParseInteger(date.substr(0, 4)), m = ParseInteger(date.substr(5, 2)), d = ParseInteger(date.substr(8, 2));
  if (!y || !m || !d || *m < 1 || *m > 12 || *d < 1 || *d > 31) return std::nullopt;
  // Howard Hinnant's days_from_civil.
  int64_t year = *y - (*m <= 2 ? 1 : 0);
  int64_t era = (year >= 0 ? year : year - 399) / 400;
  int64_t yoe = year - era * 400;
  int64_t doy = (153 * (*m + (*m > 2 ? -3 : 9)) + 2) / 5 + *d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool IsPartitionType(const std::string& type) {
  return type == "boolean" || type == "int" || type == "long" || type == "date" || type == "double" || type == "string";
}

std::optional<PartitionValue> ParsePartitionValue(const std::string& type, const std::string& text) {
  PartitionValue value;
  if (text == storage::kHiveDefaultPartition) {
    value.is_null = true;
    return value;
  }
  if (type == "string") {
    value.text = text;
    return value;
  }
  if (type == "boolean") {
    if (text != "true" && text != "false") return std::nullopt;
    value.integer = text == "true" ? 1 : 0;
    return value;
  }
  if (type == "int" || type == "long") {
    auto parsed = ParseInteger(text);
    if (!parsed) return std::nullopt;
    value.integer = *parsed;
    return value;
  }
  if (type == "date") {
    auto days = DaysSinceEpoch(text);
    if (!days) return std::nullopt;
    value.integer = *days;
    return value;
  }
  if (type == "double") {
    auto parsed = ParseReal(text);
    if (!parsed) return std::nullopt;
    value.real = *parsed;
    return value;
  }
  return std::nullopt;
}

std::string CanonicalText(const std::string& type, const PartitionValue& value) {
  if (type == "string") return value.text;
  if (type == "boolean") return value.integer != 0 ? "true" : "false";
  if (type == "double") {
    char buffer[64];
    auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value.real);
    return error == std::errc() ? std::string(buffer, end) : std::string();
  }
  return std::to_string(value.integer);
}

}  // namespace sluice::iceberg
