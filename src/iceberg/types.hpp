#pragma once

#include <cstdint>
#include <optional>
#include <string>

// How sluice's column types and values appear in Iceberg: the primitive type of a DuckDB type, the spec's
// single-value binary serialization of bounds (Appendix D), and typed partition values.
namespace sluice::iceberg {

/// "long", "decimal(18,2)", "timestamptz", ...; nullopt for a type Iceberg has no primitive for (nested types,
/// intervals, unsigned 64-bit and wider integers, nanosecond timestamps).
std::optional<std::string> IcebergType(const std::string& duckdb_type);

/// A bound in the canonical text of the lake sink's column statistics (integers; days or microseconds since
/// the epoch for dates, times and timestamps; unscaled decimals) as Iceberg's single-value binary form;
/// nullopt when the type has none here or the text does not parse.
std::optional<std::string> SerializeBound(const std::string& iceberg_type, const std::string& canonical);

/// A typed partition value, parsed from its hive path text.
struct PartitionValue {
  bool is_null = false;
  int64_t integer = 0;  // int, long, date (days since 1970-01-01), boolean (0/1)
  double real = 0;      // double
  std::string text;     // string
};

/// Parses the hive path text of an identity partition of Iceberg type `iceberg_type` (boolean, int, long, date,
/// double, string); nullopt when the type is not one of those or the text does not parse.
std::optional<PartitionValue> ParsePartitionValue(const std::string& iceberg_type, const std::string& text);

/// Whether identity partitions of this Iceberg type can be published.
bool IsPartitionType(const std::string& iceberg_type);

/// The canonical text (see SerializeBound) of a partition value, for manifest-list partition summaries.
std::string CanonicalText(const std::string& iceberg_type, const PartitionValue& value);

/// Days since 1970-01-01 of "YYYY-MM-DD"; nullopt if it is not such a date.
std::optional<int64_t> DaysSinceEpoch(const std::string& date);

}  // namespace sluice::iceberg
