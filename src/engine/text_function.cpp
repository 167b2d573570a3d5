#include <duckdb.h>

#include <exception>

#include "common/strings.hpp"
#include "engine/engine.hpp"
#include "engine/varchar_scalar.hpp"

namespace sluice::engine {
namespace {

struct TextFunctionState {
  std::function<std::string(std::string_view)> function;
};

void InvokeTextFunction(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output) {
  auto* state = static_cast<TextFunctionState*>(duckdb_scalar_function_get_extra_info(info));
  // Exceptions must not cross DuckDB's C boundary: they become the query's error.
  try {
    ForEachTextValue(input, output, [&](idx_t row, std::string_view text) {
      std::string result = state->function(text);
      duckdb_vector_assign_string_element_len(output, row, result.data(), result.size());
    });
  } catch (const std::exception& e) {
    duckdb_scalar_function_set_error(info, e.what());
  }
}

}  // namespace

Result<bool> SqlFunctionExists(Connection& connection, const std::string& name) {
  SLUICE_ASSIGN_OR_RETURN(
      auto existing, connection.Query(fmt::format(
                         "SELECT count(*) AS n FROM duckdb_functions() WHERE function_name = {}", SqlQuote(name))));
  return existing.GetInt(0, "n") > 0;
}

Status RegisterVarcharScalar(void* raw_connection, const std::string& name, duckdb_scalar_function_t function,
                             void* extra_info, duckdb_delete_callback_t destroy) {
  duckdb_scalar_function scalar = duckdb_create_scalar_function();
  duckdb_scalar_function_set_name(scalar, name.c_str());
  duckdb_logical_type varchar = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
  duckdb_scalar_function_add_parameter(scalar, varchar);
  duckdb_scalar_function_set_return_type(scalar, varchar);
  duckdb_destroy_logical_type(&varchar);
  if (extra_info != nullptr) duckdb_scalar_function_set_extra_info(scalar, extra_info, destroy);
  duckdb_scalar_function_set_function(scalar, function);
  duckdb_state registered = duckdb_register_scalar_function(static_cast<duckdb_connection>(raw_connection), scalar);
  duckdb_destroy_scalar_function(&scalar);
  if (registered != DuckDBSuccess) return Status::Internal("DuckDB refused to register SQL function '{}'", name);
  return Status::OK();
}

Status RegisterTextFunction(Connection& connection, const std::string& name,
                            std::function<std::string(std::string_view)> function) {
  SLUICE_ASSIGN_OR_RETURN(bool exists, SqlFunctionExists(connection, name));
  if (exists) return Status::AlreadyExists("SQL function '{}' is already defined", name);
  return RegisterVarcharScalar(connection.RawHandle(), name, InvokeTextFunction,
                               new TextFunctionState{std::move(function)},
                               [](void* state) { delete static_cast<TextFunctionState*>(state); });
}

}  // namespace sluice::engine
