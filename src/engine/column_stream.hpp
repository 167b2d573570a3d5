#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "engine/appender.hpp"
#include "engine/engine.hpp"

// A query's rows a chunk at a time with their values in DuckDB's own binary form (no rendering
// to text), for writers that encode another system's wire format (PostgreSQL's binary COPY).
// Memory holds one chunk (2048 rows) whatever the result size.
namespace sluice::engine {

enum class ValueKind {
  kBoolean,
  kTinyInt,
  kSmallInt,
  kInteger,
  kBigInt,
  kUTinyInt,
  kUSmallInt,
  kUInteger,
  kUBigInt,
  kHugeInt,
  kFloat,
  kDouble,
  kDecimal,      // unscaled integer of `decimal_width` digits, `decimal_scale` of them after the point
  kDate,         // days since 1970-01-01
  kTime,         // microseconds since midnight
  kTimestamp,    // microseconds since 1970-01-01 00:00 (no time zone)
  kTimestampTz,  // microseconds since 1970-01-01 00:00 UTC
  kInterval,
  kVarchar,
  kBlob,
  kUuid,
  kList,   // one child column
  kOther,  // any other type: cast it in SQL to one of the above before streaming
};

struct ColumnType {
  ValueKind kind = ValueKind::kOther;
  uint8_t decimal_width = 0;
  uint8_t decimal_scale = 0;
  std::shared_ptr<ColumnType> child;  // kList
  std::string name;                   // DuckDB's name of the type, for messages
};

/// One column of the current chunk. Valid until the stream moves to the next chunk.
class ColumnVector {
 public:
  ColumnVector() = default;
  const ColumnType& type() const { return *type_; }
  bool IsValid(uint64_t row) const;
  /// The value as the integer DuckDB stores for every kind but kFloat/kDouble/kHugeInt/kUuid/
  /// kInterval/kVarchar/kBlob/kList/kOther (decimals: the unscaled value, for widths up to 18).
  int64_t Integer(uint64_t row) const;
  double Floating(uint64_t row) const;
  /// kHugeInt, kUuid (as DuckDB stores it: the top bit flipped) and decimals wider than 18 digits.
  Int128 Wide(uint64_t row) const;
  engine::Interval IntervalAt(uint64_t row) const;
  std::string_view Bytes(uint64_t row) const;  // kVarchar, kBlob
  /// kList: the rows of child() that make row `row`'s list.
  std::pair<uint64_t, uint64_t> ListRange(uint64_t row) const;  // (offset, length)
  const ColumnVector& child() const { return *child_; }

 private:
  friend class ColumnStreamImpl;
  friend void BindVector(ColumnVector&, void*, const std::shared_ptr<ColumnType>&);
  const ColumnType* type_ = nullptr;
  const void* data_ = nullptr;
  const uint64_t* validity_ = nullptr;
  uint8_t storage_ = 0;  // bytes per value of integer kinds and decimals
  std::shared_ptr<ColumnVector> child_;
};

class ColumnStream {
 public:
  virtual ~ColumnStream() = default;
  virtual const std::vector<ColumnDescription>& columns() const = 0;
  virtual const std::vector<std::shared_ptr<ColumnType>>& types() const = 0;
  /// Moves to the next chunk; returns its row count, 0 at the end.
  virtual Result<uint64_t> Next() = 0;
  virtual const ColumnVector& column(size_t index) const = 0;
};

/// Streams the rows of `sql` (a single SELECT) on `connection`.
Result<std::unique_ptr<ColumnStream>> StreamColumns(Connection& connection, std::string_view sql);

}  // namespace sluice::engine
