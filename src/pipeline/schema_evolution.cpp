#include "pipeline/schema_evolution.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/strings.hpp"
#include "engine/type_tree.hpp"

namespace sluice::pipeline {
namespace {

int IntegerRank(const std::string& type) {
  static const std::vector<std::string> kOrder = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"};
  auto it = std::find(kOrder.begin(), kOrder.end(), type);
  return it == kOrder.end() ? -1 : static_cast<int>(it - kOrder.begin());
}

bool IsDecimal(const std::string& type) { return StartsWith(type, "DECIMAL"); }
bool IsFloating(const std::string& type) { return type == "FLOAT" || type == "DOUBLE"; }
bool IsNumeric(const std::string& type) { return IntegerRank(type) >= 0 || IsDecimal(type) || IsFloating(type); }

/// Struct fields of `source` that `target` lacks, as conditions on `expr` (recursing into common struct fields).
std::vector<std::string> DroppedFields(const std::string& expr, const engine::TypeTree& source,
                                       const engine::TypeTree& target) {
  using Kind = engine::TypeTree::Kind;
  std::vector<std::string> lost;
  if (source.kind != Kind::kStruct || target.kind != Kind::kStruct) return lost;
  for (const auto& [name, child] : source.children) {
    auto same = std::find_if(target.children.begin(), target.children.end(),
                             [&name = name](const auto& t) { return ToLower(t.first) == ToLower(name); });
    std::string field = fmt::format("struct_extract({}, {})", expr, SqlQuote(name));
    if (same == target.children.end()) {
      lost.push_back(fmt::format("{} IS NOT NULL", field));
    } else {
      std::vector<std::string> deeper = DroppedFields(field, child, same->second);
      lost.insert(lost.end(), deeper.begin(), deeper.end());
    }
  }
  return lost;
}

/// Conditions under which casting `expr` from `from` to the nested type `to` succeeds but drops data, which a
/// plain TRY_CAST does not show: a JSON value of another kind or with keys the struct lacks becomes a struct of
/// NULLs, and a struct's fields the target lacks are dropped.
std::vector<std::string> LostInCast(const std::string& expr, const std::string& from, const std::string& to) {
  using Kind = engine::TypeTree::Kind;
  auto target = engine::ParseTypeName(to);
  if (!target.ok() || target->kind == Kind::kPrimitive || target->kind == Kind::kUnsupported) return {};
  if (from == "JSON") {
    if (target->kind == Kind::kList) return {fmt::format("json_type({}) <> 'ARRAY'", expr)};
    std::vector<std::string> lost = {fmt::format("json_type({}) <> 'OBJECT'", expr)};
    if (target->kind == Kind::kStruct) {
      std::vector<std::string> names;
      for (const auto& [name, child] : target->children) names.push_back(SqlQuote(name));
      lost.push_back(fmt::format("NOT list_has_all([{}]::VARCHAR[], json_keys({}))", Join(names, ", "), expr));
    }
    return lost;
  }
  auto source = engine::ParseTypeName(from);
  if (!source.ok()) return {};
  return DroppedFields(expr, *source, *target);
}

}  // namespace

Result<SchemaChangePolicy> ParseSchemaChangePolicy(const std::string& text) {
  if (text.empty() || text == "fail") return SchemaChangePolicy::kFail;
  if (text == "evolve") return SchemaChangePolicy::kEvolve;
  if (text == "quarantine") return SchemaChangePolicy::kQuarantine;
  return Status::Invalid("schema_evolution '{}' is not one of fail, evolve, quarantine", text);
}

bool WidensTo(const std::string& from, const std::string& to) {
  if (from == to || to == "VARCHAR") return true;
  int from_int = IntegerRank(from), to_int = IntegerRank(to);
  if (from_int >= 0 && to_int >= 0) return from_int <= to_int;
  if (from_int >= 0 && (IsDecimal(to) || IsFloating(to))) return true;
  if (from == "FLOAT" && to == "DOUBLE") return true;
  if (IsDecimal(from) && to == "DOUBLE") return true;
  if (from == "DATE" && StartsWith(to, "TIMESTAMP")) return true;
  return false;
}

Result<SchemaDecision> DecideSchema(const std::optional<catalog::TableInfo>& existing,
                                    const std::vector<engine::ColumnDescription>& incoming,
                                    const std::vector<std::string>& partition_columns, SchemaChangePolicy policy) {
  SchemaDecision decision;
  if (existing) decision.schema = existing->schema;
  auto& columns = decision.schema.columns;
  auto merge = [&](const std::string& name, const std::string& type) -> Status {
    auto it = std::find_if(columns.begin(), columns.end(), [&](const catalog::Column& c) { return c.name == name; });
    if (it == columns.end()) {
      columns.push_back({name, type, true});
      return Status::OK();
    }
    if (WidensTo(type, it->type)) return Status::OK();  // the table's type already holds these values
    // Turning a typed column into text loses its type: that is the policy's call, not a widening.
    if (type != "VARCHAR" && WidensTo(it->type, type)) {
      it->type = type;
      return Status::OK();
    }
    switch (policy) {
      case SchemaChangePolicy::kEvolve:
        it->type = IsNumeric(it->type) && IsNumeric(type) ? "DOUBLE" : "VARCHAR";
        return Status::OK();
      case SchemaChangePolicy::kQuarantine: decision.casts.push_back({name, it->type, type}); return Status::OK();
      case SchemaChangePolicy::kFail: break;
    }
    return Status::DataError(
        "column '{}' of {} is {} in the table but {} in this run's output, which {} cannot hold; set "
        "target.schema_evolution: evolve (widen the column) or quarantine (set the rows that do not fit aside), or "
        "fix the input",
        name, existing->name.ToString(), it->type, type, it->type);
  };
  for (const auto& c : incoming) SLUICE_TRY(merge(c.name, c.type));
  for (const auto& p : partition_columns) {
    if (p == "_load_date") SLUICE_TRY(merge(p, "DATE"));
  }
  return decision;
}

std::pair<std::string, std::string> QuarantineSelects(const std::string& relation, const SchemaDecision& decision) {
  if (decision.casts.empty()) return {};
  std::vector<std::string> replaced, unfit, reasons;
  for (const auto& [column, type, incoming_type] : decision.casts) {
    std::string ident = SqlIdent(column);
    // TRY_CAST although the rows kept all cast: DuckDB may evaluate the projection before the filter, and a
    // value of another kind (a number where the column is a STRUCT) would fail the whole statement.
    replaced.push_back(fmt::format("TRY_CAST({} AS {}) AS {}", ident, type, ident));
    std::vector<std::string> lost = LostInCast(ident, incoming_type, type);
    std::string bad = fmt::format("({0} IS NOT NULL AND (TRY_CAST({0} AS {1}) IS NULL{2}))", ident, type,
                                  lost.empty() ? "" : " OR " + Join(lost, " OR "));
    unfit.push_back(bad);
    reasons.push_back(
        fmt::format("CASE WHEN {} THEN {} END", bad,
                    SqlQuote(fmt::format("column {}: value does not fit the table's type {}", column, type))));
  }
  std::string any_unfit = Join(unfit, " OR ");
  return {fmt::format("SELECT * REPLACE ({}) FROM {} WHERE NOT ({})", Join(replaced, ", "), relation, any_unfit),
          fmt::format("SELECT *, concat_ws('; ', {}) AS _reject_reason FROM {} WHERE {}", Join(reasons, ", "), relation,
                      any_unfit)};
}

catalog::Schema WithTableFieldIds(const std::optional<catalog::TableInfo>& table, catalog::Schema decided) {
  int64_t last_column_id = table ? table->last_column_id : 0;
  catalog::AssignFieldIds(table ? table->schema : catalog::Schema{}, &last_column_id, &decided);
  return decided;
}

std::vector<connectors::ColumnFieldIds> ParquetFieldIds(const catalog::Schema& schema) {
  std::vector<connectors::ColumnFieldIds> ids;
  for (const auto& c : schema.columns) {
    if (c.field_id > 0) ids.push_back({c.name, c.field_id, c.type, c.nested_field_ids});
  }
  return ids;
}

}  // namespace sluice::pipeline
