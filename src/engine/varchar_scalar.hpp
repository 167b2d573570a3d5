#pragma once

// Engine-internal: what every VARCHAR -> VARCHAR SQL function sluice registers through DuckDB's C API
// shares (text_function.cpp, space_trim.cpp).
#include <duckdb.h>

#include <string>
#include <string_view>

#include "common/status.hpp"

namespace sluice::engine {

class Connection;

/// Whether a SQL function of this name exists on the connection's database.
Result<bool> SqlFunctionExists(Connection& connection, const std::string& name);

/// Registers `name(VARCHAR) -> VARCHAR`, computed by `function`, on the database of `raw_connection`
/// (the connection's duckdb_connection). `extra_info` is handed to `function` and freed by `destroy`.
Status RegisterVarcharScalar(void* raw_connection, const std::string& name, duckdb_scalar_function_t function,
                             void* extra_info = nullptr, duckdb_delete_callback_t destroy = nullptr);

/// Calls `map(row, text)` for each non-NULL value of the chunk's first column (it assigns the row of
/// `output`); a NULL value gives NULL.
template <class Map>
void ForEachTextValue(duckdb_data_chunk input, duckdb_vector output, Map&& map) {
  idx_t rows = duckdb_data_chunk_get_size(input);
  duckdb_vector argument = duckdb_data_chunk_get_vector(input, 0);
  auto* values = static_cast<duckdb_string_t*>(duckdb_vector_get_data(argument));
  uint64_t* validity = duckdb_vector_get_validity(argument);
  duckdb_vector_ensure_validity_writable(output);
  uint64_t* output_validity = duckdb_vector_get_validity(output);
  for (idx_t row = 0; row < rows; ++row) {
    if (validity != nullptr && !duckdb_validity_row_is_valid(validity, row)) {
      duckdb_validity_set_row_invalid(output_validity, row);
      continue;
    }
    map(row, std::string_view(duckdb_string_t_data(&values[row]), duckdb_string_t_length(values[row])));
  }
}

}  // namespace sluice::engine
