#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Where things live inside the lake. Pure functions, no I/O: the catalog, the writers and vacuum all
// derive keys from here, so the layout is defined once.
namespace sluice::storage {

/// The folder value Hive, Spark and DuckDB read back as NULL.
inline constexpr std::string_view kHiveDefaultPartition = "__HIVE_DEFAULT_PARTITION__";

/// Escapes a partition column name or value the way DuckDB does (URL encoding: every byte except
/// ASCII letters, digits and "-_.~" becomes %XX, uppercase hex), so our keys and DuckDB's
/// PARTITION_BY folders agree.
std::string HiveEscape(std::string_view text);
/// Reverses HiveEscape; a '%' not followed by two hex digits is kept as is.
std::string HiveUnescape(std::string_view text);

/// Hive-style path segment: "country=DE". Values are escaped like Hive/DuckDB do (%2F for '/', %3D
/// for '=', etc.); null/empty values become "__HIVE_DEFAULT_PARTITION__". A value that literally is
/// "__HIVE_DEFAULT_PARTITION__" is written "%5F_HIVE_DEFAULT_PARTITION__" so it stays distinct from
/// NULL (DuckDB decodes that back to the literal).
std::string PartitionSegment(std::string_view column, std::string_view value);
/// The segments of `values` joined with '/'; "" for no values.
std::string PartitionPath(const std::vector<std::pair<std::string, std::string>>& values);
/// Parses "a=1/b=x%2Fy/part-1.parquet" back into {{"a","1"},{"b","x/y"}}. Segments without a
/// "name=" are ignored; "__HIVE_DEFAULT_PARTITION__" comes back as "".
std::vector<std::pair<std::string, std::string>> ParsePartitionPath(std::string_view key);

struct TableLayout {
  std::string zone;    // raw | silver | gold
  std::string source;  // connection/connector name for raw tables ("files", "registry"); "" for silver/gold
  std::string table;

  /// "raw/registry/compounds" ; "silver/indicators" (no source segment when source is empty)
  std::string Root() const;
  /// Root()/<variant>/<load_kind>  e.g. "raw/registry/compounds/original/incremental". Empty parts
  /// are left out, so for silver/gold with empty variant and kind it is just Root().
  std::string DataPrefix(std::string_view variant, std::string_view load_kind) const;
};

/// "<prefix>/<partition path>/part-<run-id>-<seq:05>.<extension>" (no double slashes when the prefix
/// or the partition path is empty; no dot when the extension is empty).
std::string DataFileKey(std::string_view prefix, const std::vector<std::pair<std::string, std::string>>& partitions,
                        std::string_view run_id, int sequence, std::string_view extension = "parquet");

}  // namespace sluice::storage
