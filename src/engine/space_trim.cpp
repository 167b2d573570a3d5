// `sluice_trim(VARCHAR)`: DuckDB's trim() (strip Unicode space separators, category Zs, from both
// ends) without its cost on values that need nothing: trim() decodes every code point of every
// value and copies it, which was ~40 % of a typed CSV load's CPU time; almost every value starts
// and ends with a non-space, which two edge checks prove.
#include <duckdb.h>

#include "engine/engine.hpp"
#include "engine/space_trim.hpp"

namespace sluice::engine {
namespace {

/// The code points of Unicode category Zs (what DuckDB's trim strips): U+0020, U+00A0, U+1680,
/// U+2000..U+200A, U+202F, U+205F, U+3000.
bool IsSpaceSeparator(uint32_t c) {
  return c == 0x20 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

/// Decodes the code point starting at `p` (valid UTF-8, as every DuckDB VARCHAR is); sets its length.
uint32_t DecodeAt(const unsigned char* p, size_t available, size_t* length) {
  unsigned char b = p[0];
  if (b < 0x80 || available < 2) {
    *length = 1;
    return b;
  }
  if ((b & 0xE0) == 0xC0) {
    *length = 2;
    return ((b & 0x1Fu) << 6) | (p[1] & 0x3Fu);
  }
  if ((b & 0xF0) == 0xE0 && available >= 3) {
    *length = 3;
    return ((b & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
  }
  if (available >= 4) {
    *length = 4;
    return ((b & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
  }
  *length = 1;
  return b;
}

/// Start of the code point that ends at `end` (exclusive), never before `begin`.
const unsigned char* LastCodePoint(const unsigned char* begin, const unsigned char* end) {
  const unsigned char* p = end - 1;
  while (p > begin && (*p & 0xC0) == 0x80 && end - p < 4) --p;
  return p;
}

/// The [begin, end) range of `text` without its leading and trailing space separators.
std::pair<size_t, size_t> TrimmedRange(const unsigned char* text, size_t size) {
  size_t begin = 0;
  while (begin < size) {
    size_t length = 0;
    if (!IsSpaceSeparator(DecodeAt(text + begin, size - begin, &length))) break;
    begin += length;
  }
  size_t end = size;
  while (end > begin) {
    const unsigned char* last = LastCodePoint(text + begin, text + end);
    size_t length = 0;
    if (!IsSpaceSeparator(DecodeAt(last, static_cast<size_t>(text + end - last), &length))) break;
    end = static_cast<size_t>(last - text);
  }
  return {begin, end};
}

void InvokeSpaceTrim(duckdb_function_info, duckdb_data_chunk input, duckdb_vector output) {
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
    const char* data = duckdb_string_t_data(&values[row]);
    size_t size = duckdb_string_t_length(values[row]);
    auto* text = reinterpret_cast<const unsigned char*>(data);
    // The common case: an ASCII character other than a space at both ends.
    bool plain_edges = size > 0 && text[0] < 0x80 && text[0] != ' ' && text[size - 1] < 0x80 && text[size - 1] != ' ';
    auto [begin, end] = plain_edges ? std::pair<size_t, size_t>{0, size} : TrimmedRange(text, size);
    duckdb_vector_assign_string_element_len(output, row, data + begin, end - begin);
  }
}

}  // namespace

Result<std::string> EnsureSpaceTrimFunction(Connection& connection) {
  static const std::string kName = "sluice_trim";
  SLUICE_ASSIGN_OR_RETURN(
      auto existing,
      connection.Query("SELECT count(*) AS n FROM duckdb_functions() WHERE function_name = 'sluice_trim'"));
  if (existing.GetInt(0, "n") > 0) return kName;
  duckdb_scalar_function scalar = duckdb_create_scalar_function();
  duckdb_scalar_function_set_name(scalar, kName.c_str());
  duckdb_logical_type varchar = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
  duckdb_scalar_function_add_parameter(scalar, varchar);
  duckdb_scalar_function_set_return_type(scalar, varchar);
  duckdb_destroy_logical_type(&varchar);
  duckdb_scalar_function_set_function(scalar, InvokeSpaceTrim);
  duckdb_state registered = duckdb_register_scalar_function(static_cast<duckdb_connection>(connection.RawHandle()), scalar);
  duckdb_destroy_scalar_function(&scalar);
  // Two connections may race to register it; the loser finds it there.
  if (registered != DuckDBSuccess) {
    SLUICE_ASSIGN_OR_RETURN(
        auto again, connection.Query("SELECT count(*) AS n FROM duckdb_functions() WHERE function_name = 'sluice_trim'"));
    if (again.GetInt(0, "n") == 0) return Status::Internal("DuckDB refused to register SQL function '{}'", kName);
  }
  return kName;
}

}  // namespace sluice::engine
