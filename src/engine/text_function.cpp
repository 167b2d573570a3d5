#include <duckdb.h>

#include <exception>

#include "common/strings.hpp"
#include "engine/engine.hpp"

namespace sluice::engine {
namespace {

struct TextFunctionState {
  std::function<std::string(std::string_view)> function;
};

void InvokeTextFunction(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output) {
  auto* state = static_cast<TextFunctionState*>(duckdb_scalar_function_get_extra_info(info));
  idx_t rows = duckdb_data_chunk_get_size(input);
  duckdb_vector argument = duckdb_data_chunk_get_vector(input, 0);
  auto* values = static_cast<duckdb_string_t*>(duckdb_vector_get_data(argument));
  uint64_t* validity = duckdb_vector_get_validity(argument);
  duckdb_vector_ensure_validity_writable(output);
  uint64_t* output_validity = duckdb_vector_get_validity(output);
  // Exceptions must not cross DuckDB's C boundary: they become the query's error.
  try {
    for (idx_t row = 0; row < rows; ++row) {
      if (validity != nullptr && !duckdb_validity_row_is_valid(validity, row)) {
        duckdb_validity_set_row_invalid(output_validity, row);
        continue;
      }
      std::string_view text(duckdb_string_t_data(&values[row]), duckdb_string_t_length(values[row]));
      std::string result = state->function(text);
      duckdb_vector_assign_string_element_len(output, row, result.data(), result.size());
    }
  } catch (const std::exception& e) {
    duckdb_scalar_function_set_error(info, e.what());
  }
}

}  // namespace

Status RegisterTextFunction(Connection& connection, const std::string& name,
                            std::function<std::string(std::string_view)> function) {
  SLUICE_ASSIGN_OR_RETURN(
      auto existing,
      connection.Query(fmt::format("SELECT count(*) AS n FROM duckdb_functions() WHERE function_name = {}",
                                   SqlQuote(name))));
  if (existing.GetInt(0, "n") > 0) return Status::AlreadyExists("SQL function '{}' is already defined", name);

  duckdb_scalar_function scalar = duckdb_create_scalar_function();
  duckdb_scalar_function_set_name(scalar, name.c_str());
  duckdb_logical_type varchar = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
  duckdb_scalar_function_add_parameter(scalar, varchar);
  duckdb_scalar_function_set_return_type(scalar, varchar);
  duckdb_destroy_logical_type(&varchar);
  duckdb_scalar_function_set_extra_info(scalar, new TextFunctionState{std::move(function)},
                                        [](void* state) { delete static_cast<TextFunctionState*>(state); });
  duckdb_scalar_function_set_function(scalar, InvokeTextFunction);
  duckdb_state registered = duckdb_register_scalar_function(static_cast<duckdb_connection>(connection.RawHandle()), scalar);
  duckdb_destroy_scalar_function(&scalar);
  if (registered != DuckDBSuccess) return Status::Internal("DuckDB refused to register SQL function '{}'", name);
  return Status::OK();
}

}  // namespace sluice::engine
