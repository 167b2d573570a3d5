#include "engine/duckdb_types.hpp"

#include <fmt/format.h>

#include "common/strings.hpp"

namespace sluice::engine {

duckdb_type ExpectedTypeId(ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kBool: return DUCKDB_TYPE_BOOLEAN;
    case ColumnKind::kInt16: return DUCKDB_TYPE_SMALLINT;
    case ColumnKind::kInt32: return DUCKDB_TYPE_INTEGER;
    case ColumnKind::kInt64: return DUCKDB_TYPE_BIGINT;
    case ColumnKind::kFloat: return DUCKDB_TYPE_FLOAT;
    case ColumnKind::kDouble: return DUCKDB_TYPE_DOUBLE;
    case ColumnKind::kVarchar:
    case ColumnKind::kJson: return DUCKDB_TYPE_VARCHAR;
    case ColumnKind::kBlob: return DUCKDB_TYPE_BLOB;
    case ColumnKind::kDate: return DUCKDB_TYPE_DATE;
    case ColumnKind::kTime: return DUCKDB_TYPE_TIME;
    case ColumnKind::kTimestamp: return DUCKDB_TYPE_TIMESTAMP;
    case ColumnKind::kTimestampTz: return DUCKDB_TYPE_TIMESTAMP_TZ;
    case ColumnKind::kInterval: return DUCKDB_TYPE_INTERVAL;
    case ColumnKind::kUuid: return DUCKDB_TYPE_UUID;
    case ColumnKind::kDecimal: return DUCKDB_TYPE_DECIMAL;
    case ColumnKind::kList: return DUCKDB_TYPE_LIST;
  }
  return DUCKDB_TYPE_INVALID;
}

std::string TypeToString(duckdb_logical_type type) {
  duckdb_type id = duckdb_get_type_id(type);
  switch (id) {
    case DUCKDB_TYPE_DECIMAL:
      return fmt::format("DECIMAL({},{})", duckdb_decimal_width(type), duckdb_decimal_scale(type));
    case DUCKDB_TYPE_LIST: {
      LogicalType child(duckdb_list_type_child_type(type));
      return TypeToString(child.get()) + "[]";
    }
    default: break;
  }
  for (ColumnKind kind :
       {ColumnKind::kBool, ColumnKind::kInt16, ColumnKind::kInt32, ColumnKind::kInt64, ColumnKind::kFloat,
        ColumnKind::kDouble, ColumnKind::kVarchar, ColumnKind::kBlob, ColumnKind::kDate, ColumnKind::kTime,
        ColumnKind::kTimestamp, ColumnKind::kTimestampTz, ColumnKind::kInterval, ColumnKind::kUuid}) {
    if (ExpectedTypeId(kind) == id) return DuckDbTypeName(AppendColumn{"", kind});
  }
  return fmt::format("DuckDB type #{}", static_cast<int>(id));
}

Status CheckColumnSpec(const AppendColumn& column, bool is_element) {
  if (column.kind == ColumnKind::kDecimal &&
      (column.width < 1 || column.width > 38 || column.scale < 0 || column.scale > column.width)) {
    return Status::Invalid("column '{}': DECIMAL({},{}) is out of range; width must be 1..38 and scale 0..width",
                           column.name, column.width, column.scale);
  }
  if (column.kind == ColumnKind::kList) {
    if (is_element) return Status::Invalid("column '{}': lists of lists are not supported", column.name);
    if (column.element.size() != 1) {
      return Status::Invalid("column '{}': a LIST column needs exactly one element type, got {}", column.name,
                             column.element.size());
    }
    return CheckColumnSpec(column.element[0], true);
  }
  return Status::OK();
}

/// Compares the table's column type with the declared one; "" when they match.
std::string TypeMismatch(const AppendColumn& column, duckdb_logical_type actual) {
  duckdb_type id = duckdb_get_type_id(actual);
  bool match = id == ExpectedTypeId(column.kind);
  if (match && column.kind == ColumnKind::kDecimal) {
    match = duckdb_decimal_width(actual) == column.width && duckdb_decimal_scale(actual) == column.scale;
  }
  if (match && column.kind == ColumnKind::kList) {
    LogicalType child(duckdb_list_type_child_type(actual));
    match = TypeMismatch(column.element[0], child.get()).empty();
  }
  if (match) return "";
  return fmt::format("the table has {} but the appender was given {}", TypeToString(actual), DuckDbTypeName(column));
}

const char* ColumnKindName(ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kBool: return "BOOLEAN";
    case ColumnKind::kInt16: return "SMALLINT";
    case ColumnKind::kInt32: return "INTEGER";
    case ColumnKind::kInt64: return "BIGINT";
    case ColumnKind::kFloat: return "FLOAT";
    case ColumnKind::kDouble: return "DOUBLE";
    case ColumnKind::kVarchar: return "VARCHAR";
    case ColumnKind::kJson: return "JSON";
    case ColumnKind::kBlob: return "BLOB";
    case ColumnKind::kDate: return "DATE";
    case ColumnKind::kTime: return "TIME";
    case ColumnKind::kTimestamp: return "TIMESTAMP";
    case ColumnKind::kTimestampTz: return "TIMESTAMP WITH TIME ZONE";
    case ColumnKind::kInterval: return "INTERVAL";
    case ColumnKind::kUuid: return "UUID";
    case ColumnKind::kDecimal: return "DECIMAL";
    case ColumnKind::kList: return "LIST";
  }
  return "?";
}

std::string DuckDbTypeName(const AppendColumn& column) {
  switch (column.kind) {
    case ColumnKind::kDecimal: return fmt::format("DECIMAL({},{})", column.width, column.scale);
    case ColumnKind::kList:
      return column.element.empty() ? std::string("LIST") : DuckDbTypeName(column.element[0]) + "[]";
    default: return ColumnKindName(column.kind);
  }
}

std::string CreateTableSql(std::string_view table, const std::vector<AppendColumn>& columns, bool temporary) {
  std::string sql = fmt::format("CREATE {}TABLE {} (", temporary ? "TEMP " : "", SqlIdent(table));
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) sql += ", ";
    sql += fmt::format("{} {}", SqlIdent(columns[i].name), DuckDbTypeName(columns[i]));
  }
  sql += ")";
  return sql;
}

duckdb_logical_type NewLogicalType(const AppendColumn& column) {
  switch (column.kind) {
    case ColumnKind::kDecimal:
      return duckdb_create_decimal_type(static_cast<uint8_t>(column.width), static_cast<uint8_t>(column.scale));
    case ColumnKind::kList: {
      LogicalType element(NewLogicalType(column.element[0]));
      return duckdb_create_list_type(element.get());
    }
    case ColumnKind::kJson: {
      // DuckDB's JSON is VARCHAR under the alias "JSON"; Parquet then marks the column as JSON too.
      duckdb_logical_type json = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
      duckdb_logical_type_set_alias(json, "JSON");
      return json;
    }
    default: return duckdb_create_logical_type(ExpectedTypeId(column.kind));
  }
}

}  // namespace sluice::engine
