#pragma once

#include <duckdb.h>

#include "engine/appender.hpp"

// Engine-internal (it includes duckdb.h): the DuckDB C API types behind AppendColumn.
namespace sluice::engine {

/// The DuckDB type of `column`; the caller destroys it (duckdb_destroy_logical_type).
duckdb_logical_type NewLogicalType(const AppendColumn& column);

/// The Status code for a DuckDB error type.
StatusCode CodeForDuckDbError(duckdb_error_type type);

}  // namespace sluice::engine
