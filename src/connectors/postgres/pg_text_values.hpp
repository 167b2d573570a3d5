#pragma once

// PostgreSQL values in their text output form (what pgoutput sends with proto_version 1) → the
// DuckDB types the binary COPY path gives the same columns, so that copied rows and streamed
// changes land in one table with one schema.

#include <string>
#include <string_view>

#include "common/status.hpp"
#include "connectors/postgres/pg_types.hpp"

namespace sluice::postgres {

/// The session settings under which the text forms below are produced (UTC, ISO dates, floats
/// exact); a replication connection is opened with them.
inline constexpr const char* kTextOutputSettings =
    "-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=postgres -c extra_float_digits=3 -c bytea_output=hex";

/// A one-dimensional array's text ({1,2,NULL}, {"a b","c\"d"}) as a JSON array of strings and
/// nulls, which DuckDB turns into a typed list (see TextToTypedSql). Nested arrays are refused.
Result<std::string> ArrayTextToJson(std::string_view text);

/// The DuckDB expression converting VARCHAR column `column_sql` (holding the text form, or the
/// JSON of ArrayTextToJson for arrays) into `column`'s target type.
std::string TextToTypedSql(const PgColumn& column, const std::string& column_sql);

}  // namespace sluice::postgres
