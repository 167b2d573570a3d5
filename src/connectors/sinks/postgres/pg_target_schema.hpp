#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "connectors/postgres/pg_copy_writer.hpp"
#include "engine/engine.hpp"

// The columns of a database target: the PostgreSQL type each engine type becomes when sluice
// creates the table (docs/connectors/postgres-target.md has the table), and whether an existing
// column can take a job's values without losing any.
namespace sluice::connectors::pg_target {

/// The PostgreSQL column a job's column becomes in a table sluice creates.
postgres::PgTargetColumn ColumnFor(const engine::ColumnDescription& column);

/// An existing column, as pg_attribute/pg_type describe it.
struct ExistingColumn {
  std::string name;
  std::string sql_type;   // format_type(): "numeric(12,2)", "character varying(20)", "integer[]"
  std::string type_name;  // pg_type.typname of the column, or of the element for arrays
  bool array = false;
  bool not_null = false;
};

/// The column as the writer encodes it; an error when sluice cannot write that type in binary.
Result<postgres::PgTargetColumn> WritableColumn(const ExistingColumn& existing);

/// The SQL expression over `column` (engine side) whose values `target` takes: the engine casts
/// each value to the exact binary form the writer encodes. Errors when the change would lose
/// values (text into integer, double into numeric, …), naming the column and both types.
Result<std::string> SelectFor(const engine::ColumnDescription& column, const postgres::PgTargetColumn& target,
                              const std::string& table);

}  // namespace sluice::connectors::pg_target
