#pragma once

#include <optional>
#include <string>
#include <vector>

#include "catalog/types.hpp"
#include "common/status.hpp"
#include "connectors/sinks/lake/lake_sink.hpp"
#include "engine/engine.hpp"

namespace sluice::pipeline {

/// target.schema_evolution: what an incompatible column type change does (new columns and safe
/// widenings are always applied).
enum class SchemaChangePolicy { kFail, kEvolve, kQuarantine };
Result<SchemaChangePolicy> ParseSchemaChangePolicy(const std::string& text);

/// The table's schema after this run, and how the run's rows must be shaped to fit it.
struct SchemaDecision {
  catalog::Schema schema;
  /// Quarantine: a column whose values must be cast to the table's type; rows that do not cast (or would lose
  /// part of a nested value in the cast) go to rejects.
  struct Cast {
    std::string column, type, incoming_type;
  };
  std::vector<Cast> casts;
};

/// Whether a column of type `from` can be read as `to` without loss (INTEGER -> BIGINT, FLOAT ->
/// DOUBLE, integer -> DECIMAL/DOUBLE, DATE -> TIMESTAMP, anything -> VARCHAR).
bool WidensTo(const std::string& from, const std::string& to);

/// Merges the output's columns into the table's schema: existing columns keep their place; new
/// ones are appended (nullable); a type the table's type widens to is kept; a wider incoming type
/// widens the table; anything else follows `policy` (fail names the column, both types and the
/// key to change; evolve takes a common wider type or VARCHAR; quarantine keeps the table's type).
Result<SchemaDecision> DecideSchema(const std::optional<catalog::TableInfo>& existing,
                                    const std::vector<engine::ColumnDescription>& incoming,
                                    const std::vector<std::string>& partition_columns, SchemaChangePolicy policy);

/// `decided` with the field ids the commit will give its columns: the ids `table` (the table as read) has for
/// them, new ids after its last for new columns (catalog::AssignFieldIds); a new table numbers from 1.
catalog::Schema WithTableFieldIds(const std::optional<catalog::TableInfo>& table, catalog::Schema decided);

/// (name, id) of every column with a field id, for connectors::LakeWriteRequest::field_ids.
std::vector<connectors::ColumnFieldIds> ParquetFieldIds(const catalog::Schema& schema);

/// SELECT over `relation` casting the quarantined columns to the table's types, and the SELECT of
/// the rows that do not fit (with _reject_reason); both empty when there is nothing to cast.
std::pair<std::string, std::string> QuarantineSelects(const std::string& relation, const SchemaDecision& decision);

}  // namespace sluice::pipeline
