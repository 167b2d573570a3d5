// `sluice_trim(VARCHAR)`: DuckDB's trim() (strip Unicode space separators, category Zs, from both
// ends) without its cost on values that need nothing: trim() decodes every code point of every
// value and copies it, which was ~40 % of a typed CSV load's CPU time; almost every value starts
// and ends with a non-space, which two edge checks prove.
#include <duckdb.h>

#include "engine/engine.hpp"
#include "engine/space_trim.hpp"
#include "engine/varchar_scalar.hpp"

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

/// The common case: empty, or an ASCII character other than a space at both ends.
bool NeedsNoTrim(const unsigned char* text, size_t size) {
  return size == 0 || (text[0] < 0x80 && text[0] != ' ' && text[size - 1] < 0x80 && text[size - 1] != ' ');
}

/// Whether no value of the chunk's first column needs trimming: almost every chunk of a load.
bool ChunkNeedsNoTrim(duckdb_data_chunk input) {
  idx_t rows = duckdb_data_chunk_get_size(input);
  duckdb_vector argument = duckdb_data_chunk_get_vector(input, 0);
  auto* values = static_cast<duckdb_string_t*>(duckdb_vector_get_data(argument));
  uint64_t* validity = duckdb_vector_get_validity(argument);
  for (idx_t row = 0; row < rows; ++row) {
    if (validity != nullptr && !duckdb_validity_row_is_valid(validity, row)) continue;
    auto* text = reinterpret_cast<const unsigned char*>(duckdb_string_t_data(&values[row]));
    if (!NeedsNoTrim(text, duckdb_string_t_length(values[row]))) return false;
  }
  return true;
}

void InvokeSpaceTrim(duckdb_function_info, duckdb_data_chunk input, duckdb_vector output) {
  // Sharing the input's strings instead of copying each one into the output was half of the
  // function's cost.
  if (ChunkNeedsNoTrim(input)) {
    duckdb_vector_reference_vector(output, duckdb_data_chunk_get_vector(input, 0));
    return;
  }
  ForEachTextValue(input, output, [output](idx_t row, std::string_view value) {
    auto* text = reinterpret_cast<const unsigned char*>(value.data());
    size_t size = value.size();
    auto [begin, end] = NeedsNoTrim(text, size) ? std::pair<size_t, size_t>{0, size} : TrimmedRange(text, size);
    duckdb_vector_assign_string_element_len(output, row, value.data() + begin, end - begin);
  });
}

}  // namespace

Result<std::string> EnsureSpaceTrimFunction(Connection& connection) {
  static const std::string kName = "sluice_trim";
  SLUICE_ASSIGN_OR_RETURN(bool exists, SqlFunctionExists(connection, kName));
  if (exists) return kName;
  Status registered = RegisterVarcharScalar(connection.RawHandle(), kName, InvokeSpaceTrim);
  if (!registered.ok()) {
    // Two connections may race to register it; the loser finds it there.
    SLUICE_ASSIGN_OR_RETURN(bool there_now, SqlFunctionExists(connection, kName));
    if (!there_now) return registered;
  }
  return kName;
}

}  // namespace sluice::engine
