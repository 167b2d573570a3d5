#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.hpp"

// The shape of a DuckDB type name ("STRUCT(a INTEGER, tags VARCHAR[])", "MAP(VARCHAR, DOUBLE)"): which
// columns have nested fields, and their names, so field ids can be given to every level of a column
// (Parquet files and Iceberg schemas both number nested fields).
namespace sluice::engine {

struct TypeTree {
  enum class Kind { kPrimitive, kStruct, kList, kMap, kUnsupported };
  /// Declared here and defined in the .cpp: otherwise clang (14, with libstdc++ 12) checks
  /// std::pair<std::string, TypeTree> while TypeTree is still incomplete and refuses `children`.
  TypeTree();
  Kind kind = Kind::kPrimitive;
  /// The type name as written: the whole name for a primitive ("DECIMAL(18,2)"), the outer name otherwise.
  std::string name;
  /// struct: its fields in order; list (and fixed-size ARRAY): one child "element"; map: "key" then "value".
  std::vector<std::pair<std::string, TypeTree>> children;
};

/// Parses a type name as DuckDB prints it (DESCRIBE, duckdb_column_type names). UNION and other
/// nested kinds without an equivalent elsewhere come back as kUnsupported; an unbalanced or empty
/// name is an error.
Result<TypeTree> ParseTypeName(std::string_view duckdb_type);

/// How many nested fields `tree` has at every level below the top (struct fields, list elements, map
/// keys and values), counted depth first: the number of ids its nested fields need.
int NestedFieldCount(const TypeTree& tree);

/// The path of every nested field of `tree` in the same depth-first order, child names joined by '/'
/// ("customer/tags/element"): how a field is recognised when its column's type changes.
std::vector<std::string> NestedFieldPaths(const TypeTree& tree);

}  // namespace sluice::engine
