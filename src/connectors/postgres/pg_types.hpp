#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "connectors/postgres/pg_client.hpp"
#include "engine/appender.hpp"

// PostgreSQL column types -> DuckDB column types, and how each value arrives in binary COPY.
// The mapping table is in docs/connectors/postgres-internals.md.
namespace sluice::postgres {

/// The binary send/recv format of a column's values (after resolving domains).
enum class WireType {
  kBool,
  kInt2,
  kInt4,
  kInt8,
  kOid,  // uint32
  kFloat4,
  kFloat8,
  kNumeric,  // base-10000 digits, weight, sign, dscale
  kText,     // text, varchar, bpchar, name, "char", citext, enums, xml, and anything cast to text
  kJson,     // json: text
  kJsonb,    // jsonb: version byte 1, then text
  kBytea,
  kDate,         // int32 days since 2000-01-01
  kTime,         // int64 microseconds since midnight
  kTimestamp,    // int64 microseconds since 2000-01-01
  kTimestampTz,  // int64 microseconds since 2000-01-01 UTC
  kInterval,     // int64 microseconds, int32 days, int32 months
  kUuid,         // 16 bytes
  kArray,        // one-dimensional arrays of one of the above
};

const char* WireTypeName(WireType wire);

struct PgColumn {
  std::string name;
  uint32_t type_oid = 0;  // as declared (may be a domain or an array type)
  int32_t typmod = -1;
  std::string type_name;  // format_type(): "numeric(12,2)", "text[]", "my_domain"
  WireType wire = WireType::kText;
  WireType element_wire = WireType::kText;  // kArray only
  bool cast_to_text = false;                // an unsupported type, selected as ::text
  bool not_null = false;                    // known only from DescribeTable
  engine::AppendColumn target;              // the DuckDB column it lands in
};

struct TypeMappingOptions {
  /// Read columns of types sluice cannot decode as their text form instead of failing.
  bool cast_unsupported_to_text = false;
};

/// Columns of a query, from its result description (`SELECT * FROM (query) q LIMIT 0`) plus
/// pg_type for domains, enums and arrays. Fails naming the column for unsupported types, unless
/// options.cast_unsupported_to_text.
Result<std::vector<PgColumn>> DescribeQuery(PgClient& client, std::string_view query,
                                            const TypeMappingOptions& options = {});
/// Columns of a table or view, from the catalog (includes NOT NULL).
Result<std::vector<PgColumn>> DescribeTable(PgClient& client, std::string_view schema, std::string_view table,
                                            const TypeMappingOptions& options = {});

/// The SELECT list that reads `columns` from a relation aliased `q` (with ::text casts as needed).
std::string SelectList(const std::vector<PgColumn>& columns);
/// COPY (SELECT <list> FROM (query) AS q) TO STDOUT (FORMAT binary)
std::string CopySql(std::string_view query, const std::vector<PgColumn>& columns);
/// The DuckDB columns for `columns`.
std::vector<engine::AppendColumn> TargetColumns(const std::vector<PgColumn>& columns);

/// Precision and scale of a numeric typmod; false when there is none (plain `numeric`).
bool DecodeNumericTypmod(int32_t typmod, int* precision, int* scale);

}  // namespace sluice::postgres
