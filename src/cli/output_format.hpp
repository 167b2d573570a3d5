#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/status.hpp"
#include "engine/engine.hpp"

namespace sluice::cli {

/// "2026-11-23 10:56:00" (UTC), for tables people read.
std::string ShortTime(TimePoint t);

enum class OutputFormat { kTable, kCsv, kJson };

/// An RFC 4180 field: quoted when it holds a comma, quote or line break; NULL is an empty field.
std::string CsvField(const std::optional<std::string>& value);

/// Prints a small result as an aligned text table (NULL shown as "NULL").
void PrintTable(FILE* out, const std::vector<std::string>& header, const std::vector<engine::TextRow>& rows);

/// Streams a query's rows to `out` in the chosen format; memory stays bounded for csv and json.
/// Table format stops after `max_table_rows` rows and says how many were left out.
Status PrintQuery(FILE* out, engine::Connection& connection, const std::string& sql, OutputFormat format,
                  size_t max_table_rows);

}  // namespace sluice::cli
