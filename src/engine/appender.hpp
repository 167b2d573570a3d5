#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "engine/engine.hpp"

// Fast loading of rows produced in C++ (database extracts, decoders) into a DuckDB table.
// Values are written straight into the vectors of a DuckDB data chunk, which is appended whole
// when it is full: no per-value allocation, no SQL, no duckdb_value boxing.
namespace sluice::engine {

/// The physical kinds of value an Appender can take. Each maps to exactly one DuckDB type.
enum class ColumnKind {
  kBool,         // BOOLEAN
  kInt16,        // SMALLINT
  kInt32,        // INTEGER
  kInt64,        // BIGINT
  kFloat,        // FLOAT
  kDouble,       // DOUBLE
  kVarchar,      // VARCHAR (must be valid UTF-8; checked)
  kJson,         // JSON (text)
  kBlob,         // BLOB
  kDate,         // DATE: days since 1970-01-01
  kTime,         // TIME: microseconds since midnight
  kTimestamp,    // TIMESTAMP: microseconds since 1970-01-01 (no time zone)
  kTimestampTz,  // TIMESTAMP WITH TIME ZONE: microseconds since 1970-01-01 UTC
  kInterval,     // INTERVAL: months, days, microseconds
  kUuid,         // UUID: 16 bytes, big-endian (RFC 4122 byte order)
  kDecimal,      // DECIMAL(width, scale), width 1..38: the unscaled integer
  kList,         // LIST of `element[0]`
};

const char* ColumnKindName(ColumnKind kind);

struct AppendColumn {
  std::string name;
  ColumnKind kind = ColumnKind::kVarchar;
  int width = 0;  // kDecimal only: 1..38
  int scale = 0;  // kDecimal only: 0..width
  /// kList only: exactly one entry, the element type (its name is ignored; lists of lists are not supported).
  std::vector<AppendColumn> element;
};

/// The DuckDB type of a column, e.g. "DECIMAL(12,4)", "TIMESTAMP WITH TIME ZONE", "VARCHAR[]".
std::string DuckDbTypeName(const AppendColumn& column);
/// CREATE [TEMP] TABLE statement for `columns` (names quoted as identifiers).
std::string CreateTableSql(std::string_view table, const std::vector<AppendColumn>& columns, bool temporary);

/// A signed 128-bit integer in two's complement (DuckDB's hugeint layout), for wide DECIMALs.
struct Int128 {
  uint64_t low = 0;
  int64_t high = 0;
};

struct Interval {
  int32_t months = 0;
  int32_t days = 0;
  int64_t micros = 0;
};

struct AppenderColumnState;  // one column's vector and cursor; defined in appender.cpp

/// The elements of one list value; obtained from Appender::BeginList and filled in order.
/// Valid until the next call on its Appender other than another list's element adds.
class ListBuilder {
 public:
  void AddNull();
  void AddBool(bool value);
  void AddInt16(int16_t value);
  void AddInt32(int32_t value);
  void AddInt64(int64_t value);
  void AddFloat(float value);
  void AddDouble(double value);
  void AddVarchar(std::string_view value);  // also for JSON elements
  void AddBlob(std::string_view value);
  void AddDate(int32_t days);
  void AddTime(int64_t micros);
  void AddTimestamp(int64_t micros);  // also for TIMESTAMP WITH TIME ZONE elements
  void AddInterval(const Interval& value);
  void AddUuid(const uint8_t (&bytes)[16]);
  void AddDecimal(Int128 unscaled);

 private:
  friend class Appender;
  explicit ListBuilder(AppenderColumnState* column) : column_(column) {}
  AppenderColumnState* column_;
};

/// Appends rows to one existing DuckDB table through data chunks.
///
/// Usage per row: call one setter per column (a column left unset in a row becomes NULL), then
/// EndRow(). Setters never fail loudly: a misuse (wrong kind for the column, index out of range,
/// invalid UTF-8) is remembered and returned by the next EndRow()/Flush(), and the appender
/// refuses further rows. Nothing here throws. Rows become visible to queries after Flush().
class Appender {
 public:
  /// Opens an appender on `table` (in `schema`, or the search path - temp tables included - when
  /// empty) whose columns must be exactly `columns`, in order and type.
  static Result<std::unique_ptr<Appender>> Make(Connection& connection, std::string_view table,
                                                std::vector<AppendColumn> columns, std::string_view schema = "");
  /// An appender that fills the output chunks of a RowStream (named `name` in messages) instead
  /// of a table: rows go straight to the query reading the stream. EndRow() never appends; the
  /// producer stops when ChunkRoom() reaches 0. Flush() and Close() do nothing.
  static Result<std::unique_ptr<Appender>> ForChunks(std::string_view name, std::vector<AppendColumn> columns);
  ~Appender();
  Appender(const Appender&) = delete;
  Appender& operator=(const Appender&) = delete;

  const std::vector<AppendColumn>& columns() const { return columns_; }

  void SetNull(size_t col);
  void SetBool(size_t col, bool value);
  void SetInt16(size_t col, int16_t value);
  void SetInt32(size_t col, int32_t value);
  void SetInt64(size_t col, int64_t value);
  void SetFloat(size_t col, float value);
  void SetDouble(size_t col, double value);
  void SetVarchar(size_t col, std::string_view value);  // VARCHAR and JSON
  void SetBlob(size_t col, std::string_view value);
  void SetDate(size_t col, int32_t days_since_epoch);
  void SetTime(size_t col, int64_t micros_since_midnight);
  void SetTimestamp(size_t col, int64_t micros_since_epoch);  // TIMESTAMP and TIMESTAMP WITH TIME ZONE
  void SetInterval(size_t col, const Interval& value);
  void SetUuid(size_t col, const uint8_t (&bytes)[16]);
  void SetDecimal(size_t col, Int128 unscaled);
  void SetDecimal(size_t col, int64_t unscaled) {
    SetDecimal(col, Int128{static_cast<uint64_t>(unscaled), unscaled < 0 ? -1 : 0});
  }
  /// Starts the list value of `col` for the current row (empty until elements are added).
  ListBuilder BeginList(size_t col);

  /// Finishes the current row; appends the chunk to the table when it is full.
  Status EndRow();
  /// Appends the buffered rows and makes everything appended so far visible.
  Status Flush();
  /// Flush() and release the table; the appender takes no rows afterwards.
  Status Close();

  /// Rows finished with EndRow() since Make().
  uint64_t rows() const { return rows_; }
  /// Rows the current chunk can still take before it is appended (or, for ForChunks, handed over).
  size_t ChunkRoom() const { return chunk_capacity_ - row_in_chunk_; }
  /// The first misuse or append failure, if any (sticky).
  const Status& error() const { return error_; }

 private:
  struct Impl;
  friend struct RowStreamCallbacks;  // hands DuckDB's output chunks to ForChunks appenders
  Appender();
  /// ForChunks: fill `chunk` (a duckdb_data_chunk) from its first row on.
  void BeginChunk(void* chunk);
  /// ForChunks: seals the current chunk (sizes set) and returns its rows.
  size_t EndChunk();
  /// Sets the sizes of the current chunk (and of its list children) to the rows written.
  void SealChunk(void* chunk);
  AppenderColumnState* Column(size_t col, ColumnKind kind);
  void OutOfRange(size_t col);
  Status AppendChunk();

  std::unique_ptr<Impl> impl_;
  std::vector<AppendColumn> columns_;
  std::vector<AppenderColumnState*> states_;
  uint64_t rows_ = 0;
  size_t row_in_chunk_ = 0;
  size_t chunk_capacity_ = 0;
  uint64_t row_stamp_ = 1;  // columns written in this row carry this stamp
  bool closed_ = false;
  Status error_;
};

}  // namespace sluice::engine
