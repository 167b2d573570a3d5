#pragma once

#include <duckdb.h>

#include <string>

#include "engine/appender.hpp"

// Engine-internal (it includes duckdb.h): the DuckDB C API types behind AppendColumn.
namespace sluice::engine {

/// The DuckDB type id an AppendColumn of `kind` has (DUCKDB_TYPE_DECIMAL, DUCKDB_TYPE_LIST for those).
duckdb_type ExpectedTypeId(ColumnKind kind);

/// Owns a duckdb_logical_type.
class LogicalType {
 public:
  explicit LogicalType(duckdb_logical_type type) : type_(type) {}
  ~LogicalType() {
    if (type_ != nullptr) duckdb_destroy_logical_type(&type_);
  }
  LogicalType(const LogicalType&) = delete;
  LogicalType& operator=(const LogicalType&) = delete;
  duckdb_logical_type get() const { return type_; }

 private:
  duckdb_logical_type type_;
};

/// "DECIMAL(12,4)", "VARCHAR[]", …: a DuckDB type as SQL names it.
std::string TypeToString(duckdb_logical_type type);

/// A DECIMAL's width and scale in range, a LIST with exactly one element type (not a list).
Status CheckColumnSpec(const AppendColumn& column, bool is_element);

/// Compares the table's column type with the declared one; "" when they match.
std::string TypeMismatch(const AppendColumn& column, duckdb_logical_type actual);

/// The DuckDB type of `column`; the caller destroys it (duckdb_destroy_logical_type).
duckdb_logical_type NewLogicalType(const AppendColumn& column);

/// The Status code for a DuckDB error type.
StatusCode CodeForDuckDbError(duckdb_error_type type);

}  // namespace sluice::engine
