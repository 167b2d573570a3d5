#include "connectors/sinks/postgres/pg_target_schema.hpp"

#include <algorithm>
#include <regex>

#include "common/strings.hpp"

namespace sluice::connectors::pg_target {
namespace {

using postgres::PgScalar;
using postgres::PgTargetColumn;

std::string Upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
  return text;
}

bool StartsWith(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

/// "INTEGER[]" → "INTEGER"; "" when `type` is not a list.
std::string ListElement(const std::string& type) {
  if (type.size() > 2 && type.compare(type.size() - 2, 2, "[]") == 0) return type.substr(0, type.size() - 2);
  static const std::regex kFixedArray(R"((.*)\[\d+\]$)");
  std::smatch m;
  if (std::regex_match(type, m, kFixedArray)) return m[1];
  return "";
}

bool IsNested(const std::string& type) {
  return StartsWith(type, "STRUCT") || StartsWith(type, "MAP") || StartsWith(type, "UNION") || type == "JSON";
}

bool IsTimestampWithoutZone(const std::string& type) {
  return type == "TIMESTAMP" || type == "TIMESTAMP_S" || type == "TIMESTAMP_MS" || type == "TIMESTAMP_NS" ||
         type == "DATETIME";
}

/// The scalar PostgreSQL type of a non-list engine type; nullopt = jsonb/text decided by the caller.
std::optional<std::pair<PgScalar, std::string>> ScalarFor(const std::string& type) {
  if (type == "BOOLEAN") return std::pair{PgScalar::kBool, std::string("boolean")};
  if (type == "TINYINT" || type == "SMALLINT" || type == "UTINYINT")
    return std::pair{PgScalar::kInt2, std::string("smallint")};
  if (type == "INTEGER" || type == "USMALLINT") return std::pair{PgScalar::kInt4, std::string("integer")};
  if (type == "BIGINT" || type == "UINTEGER") return std::pair{PgScalar::kInt8, std::string("bigint")};
  if (type == "UBIGINT") return std::pair{PgScalar::kNumeric, std::string("numeric(20,0)")};
  if (type == "HUGEINT" || type == "UHUGEINT") return std::pair{PgScalar::kNumeric, std::string("numeric(38,0)")};
  if (type == "FLOAT") return std::pair{PgScalar::kFloat4, std::string("real")};
  if (type == "DOUBLE") return std::pair{PgScalar::kFloat8, std::string("double precision")};
  if (StartsWith(type, "DECIMAL")) {
    std::string args = type.size() > 7 ? type.substr(7) : "(18,3)";
    return std::pair{PgScalar::kNumeric, "numeric" + args};
  }
  if (type == "BLOB") return std::pair{PgScalar::kBytea, std::string("bytea")};
  if (type == "DATE") return std::pair{PgScalar::kDate, std::string("date")};
  if (type == "TIME") return std::pair{PgScalar::kTime, std::string("time")};
  if (IsTimestampWithoutZone(type)) return std::pair{PgScalar::kTimestamp, std::string("timestamp")};
  if (type == "TIMESTAMP WITH TIME ZONE" || type == "TIMESTAMPTZ") {
    return std::pair{PgScalar::kTimestampTz, std::string("timestamp with time zone")};
  }
  if (type == "INTERVAL") return std::pair{PgScalar::kInterval, std::string("interval")};
  if (type == "UUID") return std::pair{PgScalar::kUuid, std::string("uuid")};
  if (IsNested(type)) return std::pair{PgScalar::kJsonb, std::string("jsonb")};
  if (type == "VARCHAR" || StartsWith(type, "ENUM") || type == "BIT" || StartsWith(type, "TIME WITH")) {
    return std::pair{PgScalar::kText, std::string("text")};
  }
  return std::nullopt;
}

bool IsInteger(const std::string& t) {
  return t == "TINYINT" || t == "SMALLINT" || t == "INTEGER" || t == "BIGINT" || t == "UTINYINT" || t == "USMALLINT" ||
         t == "UINTEGER" || t == "UBIGINT" || t == "HUGEINT" || t == "UHUGEINT";
}

/// Whether values of engine type `t` fit PostgreSQL's `scalar` without loss of precision (range
/// errors aside, which the engine's checked cast reports per value).
bool Accepts(PgScalar scalar, const std::string& t) {
  switch (scalar) {
    case PgScalar::kBool: return t == "BOOLEAN";
    // Between integer widths the engine's checked cast fails on the first value out of range,
    // naming it: a CSV's BIGINT column fits an integer column as long as its values do.
    case PgScalar::kInt2:
    case PgScalar::kInt4:
    case PgScalar::kInt8: return IsInteger(t);
    case PgScalar::kNumeric: return IsInteger(t) || StartsWith(t, "DECIMAL");
    case PgScalar::kFloat4: return t == "FLOAT" || t == "TINYINT" || t == "SMALLINT" || t == "UTINYINT";
    case PgScalar::kFloat8: return t == "FLOAT" || t == "DOUBLE" || IsInteger(t);
    case PgScalar::kText: return true;
    case PgScalar::kBytea: return t == "BLOB";
    case PgScalar::kDate: return t == "DATE";
    case PgScalar::kTime: return t == "TIME";
    case PgScalar::kTimestamp: return t == "DATE" || IsTimestampWithoutZone(t);
    case PgScalar::kTimestampTz:
      return t == "DATE" || IsTimestampWithoutZone(t) || t == "TIMESTAMP WITH TIME ZONE" || t == "TIMESTAMPTZ";
    case PgScalar::kInterval: return t == "INTERVAL";
    case PgScalar::kUuid: return t == "UUID";
    case PgScalar::kJson:
    case PgScalar::kJsonb: return IsNested(t) || t == "VARCHAR" || !ListElement(t).empty();
  }
  return false;
}

/// DECIMAL(p,s) for a numeric column: the target's own precision when it has one (so values
/// that do not fit fail in the engine, naming the value), else the job's.
std::string DecimalSqlFor(const std::string& target_sql_type, const std::string& source_type) {
  static const std::regex kTypmod(R"(numeric\((\d+),(\d+)\))");
  std::smatch m;
  if (std::regex_match(target_sql_type, m, kTypmod) && std::stoi(m[1]) <= 38) {
    return fmt::format("DECIMAL({},{})", m[1].str(), m[2].str());
  }
  if (StartsWith(source_type, "DECIMAL")) return source_type;
  return "DECIMAL(38,0)";
}

}  // namespace

PgTargetColumn ColumnFor(const engine::ColumnDescription& column) {
  PgTargetColumn out;
  out.name = column.name;
  std::string type = Upper(column.type);
  if (std::string element = ListElement(type); !element.empty()) {
    auto scalar = ScalarFor(element);
    if (scalar && scalar->first != PgScalar::kJsonb && ListElement(element).empty()) {
      out.scalar = scalar->first;
      out.array = true;
      out.sql_type = scalar->second + "[]";
      return out;
    }
    out.scalar = PgScalar::kJsonb;  // lists of structs or lists: a JSON array
    out.sql_type = "jsonb";
    return out;
  }
  auto scalar = ScalarFor(type);
  out.scalar = scalar ? scalar->first : PgScalar::kText;
  out.sql_type = scalar ? scalar->second : "text";
  return out;
}

Result<PgTargetColumn> WritableColumn(const ExistingColumn& existing) {
  auto scalar = postgres::ScalarFromTypeName(existing.type_name);
  if (!scalar) {
    return Status::Invalid(
        "column '{}' has type {}, which sluice cannot write; change the column to a supported type (see "
        "docs/connectors/postgres-target.md) or leave it out of the job's output",
        existing.name, existing.sql_type);
  }
  return PgTargetColumn{existing.name, existing.sql_type, *scalar, existing.array};
}

Result<std::string> SelectFor(const engine::ColumnDescription& column, const PgTargetColumn& target,
                              const std::string& table) {
  std::string type = Upper(column.type);
  std::string name = SqlIdent(column.name);
  auto refuse = [&] {
    return Status::Invalid(
        "column '{}' of {} is {} in PostgreSQL, but the job writes {} values, which do not fit without loss; cast the "
        "column in a step (e.g. - sql: \"SELECT * REPLACE (CAST({} AS ...) AS {}) FROM input\") or change the table",
        column.name, table, target.sql_type, column.type, column.name, column.name);
  };
  if (target.array) {
    std::string element = ListElement(type);
    if (element.empty() || !Accepts(target.scalar, element)) return refuse();
    std::string element_sql = postgres::EngineTypeFor(target.scalar, DecimalSqlFor(target.sql_type, element));
    return fmt::format("CAST({} AS {}[])", name, element_sql);
  }
  if (!Accepts(target.scalar, type)) return refuse();
  switch (target.scalar) {
    case PgScalar::kJson:
    case PgScalar::kJsonb:
      if (type == "VARCHAR" || type == "JSON") return fmt::format("CAST({} AS VARCHAR)", name);
      return fmt::format("CAST(to_json({}) AS VARCHAR)", name);
    case PgScalar::kNumeric: return fmt::format("CAST({} AS {})", name, DecimalSqlFor(target.sql_type, type));
    case PgScalar::kText:
      if (!ListElement(type).empty() || IsNested(type)) return fmt::format("CAST(to_json({}) AS VARCHAR)", name);
      return fmt::format("CAST({} AS VARCHAR)", name);
    default: return fmt::format("CAST({} AS {})", name, postgres::EngineTypeFor(target.scalar));
  }
}

}  // namespace sluice::connectors::pg_target
