#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "connectors/postgres/pg_client.hpp"
#include "engine/column_stream.hpp"

// Rows from the engine into PostgreSQL with binary `COPY … FROM STDIN`: each value goes from
// DuckDB's binary form to PostgreSQL's without text in between, a buffer of about 1 MB at a time.
namespace sluice::postgres {

/// The PostgreSQL types sluice writes (and the scalar of an array column).
enum class PgScalar {
  kBool,
  kInt2,
  kInt4,
  kInt8,
  kFloat4,
  kFloat8,
  kNumeric,
  kText,  // text, varchar, bpchar: the same binary form
  kBytea,
  kDate,
  kTime,
  kTimestamp,
  kTimestampTz,
  kInterval,
  kUuid,
  kJson,
  kJsonb,
};

/// A target column: its name, its type as PostgreSQL shows it, and how its values are encoded.
struct PgTargetColumn {
  std::string name;
  std::string sql_type;  // e.g. "numeric(12,2)", "timestamp with time zone", "bigint[]"
  PgScalar scalar = PgScalar::kText;
  bool array = false;
};

/// The scalar of a pg_type name ("int8", "timestamptz", "varchar", …); nullopt for types sluice
/// cannot write in binary (inet, ranges, …).
std::optional<PgScalar> ScalarFromTypeName(std::string_view typname);
/// The type's OID (array elements carry it).
uint32_t ScalarOid(PgScalar scalar);
/// The engine kind a value must have to be encoded as `scalar`; the writer casts to it in SQL.
engine::ValueKind KindFor(PgScalar scalar);
/// DuckDB's SQL name of KindFor(scalar) ("BIGINT", "VARCHAR", …); decimals keep `decimal_sql`.
std::string EngineTypeFor(PgScalar scalar, const std::string& decimal_sql = "DECIMAL(38,10)");

/// PostgreSQL's binary numeric: sign, weight and base-10000 digits of `unscaled` / 10^scale.
std::string EncodeNumeric(engine::Int128 unscaled, int scale);
/// EncodeNumeric() appended to `out`, without a string of its own per value.
void AppendNumeric(engine::Int128 unscaled, int scale, std::string* out);

/// One `COPY table (columns) FROM STDIN (FORMAT binary)` in progress on a connection.
class CopyInWriter {
 public:
  /// Sends `copy_sql` (which must end in FROM STDIN (FORMAT binary)) and the binary header.
  static Result<std::unique_ptr<CopyInWriter>> Start(PgClient& client, const std::string& copy_sql,
                                                     std::vector<PgTargetColumn> columns);
  ~CopyInWriter();
  /// Encodes the stream's current chunk of `rows` rows; its columns are the target's, in order,
  /// each of KindFor(scalar) (a list of it for arrays).
  Status WriteChunk(const engine::ColumnStream& stream, uint64_t rows);
  /// Ends the COPY; returns the rows PostgreSQL stored.
  Result<int64_t> Finish();
  uint64_t bytes_sent() const { return bytes_sent_; }

 private:
  CopyInWriter(PgClient& client, std::vector<PgTargetColumn> columns) : client_(client), columns_(std::move(columns)) {}
  Status Flush();
  Status EncodeValue(const engine::ColumnVector& column, uint64_t row, const PgTargetColumn& target);
  Status EncodeScalar(const engine::ColumnVector& column, uint64_t row, PgScalar scalar, std::string* out);

  PgClient& client_;
  std::vector<PgTargetColumn> columns_;
  std::string buffer_;
  std::string scratch_;
  uint64_t bytes_sent_ = 0;
  bool open_ = false;
};

}  // namespace sluice::postgres
