#pragma once

#include <string>

#include "common/status.hpp"

namespace sluice::engine {

class Connection;

/// Makes `sluice_trim(VARCHAR) -> VARCHAR` callable on the connection's database (once per database;
/// later calls find it) and returns its name. It strips the same characters as DuckDB's trim() —
/// Unicode space separators (category Zs) at both ends, not tabs or line breaks — and is several
/// times faster on values that need no trimming.
Result<std::string> EnsureSpaceTrimFunction(Connection& connection);

}  // namespace sluice::engine
