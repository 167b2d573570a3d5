#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/secret.hpp"
#include "common/status.hpp"
#include "config/value.hpp"
#include "connectors/postgres/pg_client.hpp"
#include "connectors/source.hpp"

/// The postgres source's own types, shared by its options, planner and readers (one file each in
/// this folder); nothing outside the folder uses them.
namespace sluice::connectors::pg_source {

/// kChanges reads every row like kFull; the pipeline's change detection keeps only what changed.
enum class LoadMode { kFull, kIncremental, kChanges, kWindow };

/// mode: window — `column >= start AND column < stop`, moving on by `step` after each successful run.
struct WindowOptions {
  std::string column, start, stop, step;
};

/// Ranges of an integer column read over concurrent connections (like Spark's JDBC partitioning):
/// the first range also takes values below lower_bound and NULLs, the last those above upper_bound.
struct PartitionOptions {
  std::string column;
  int64_t lower_bound = 0, upper_bound = 0, num_partitions = 1;

  /// The WHERE condition of partition `i` (of num_partitions).
  std::string Condition(int64_t i) const {
    std::string ident = postgres::QuoteIdent(column);
    int64_t stride = std::max<int64_t>(1, (upper_bound - lower_bound + num_partitions - 1) / num_partitions);
    int64_t lo = lower_bound + i * stride, hi = lo + stride;
    if (num_partitions == 1) return "TRUE";
    if (i == 0) return fmt::format("({} < {} OR {} IS NULL)", ident, hi, ident);
    if (i == num_partitions - 1) return fmt::format("{} >= {}", ident, lo);
    return fmt::format("({} >= {} AND {} < {})", ident, lo, ident, hi);
  }
};

/// The source's options, checked and typed (ParseOptions).
struct PostgresOptions {
  std::string url;
  std::optional<Secret> password;
  std::string schema, table;  // table form
  std::string query;          // query form
  std::vector<std::string> columns;
  std::string cursor;
  config::Value lookback;  // null when absent; read once the cursor's type is known
  config::Location location;
  int64_t batch_rows = 0;
  int64_t connect_retries = 2;
  bool cast_unsupported_to_text = false;
  bool server_side_hash = true;  // mode: changes: hash rows in PostgreSQL, transfer only the changed ones
  int64_t read_connections = 2;  // mode: full of a table: connections reading it side by side
  bool resumable = true;         // mode: full of a table: read in key-ordered chunks an interrupted load resumes from
  std::string chunk_by;          // "" = the table's single-column integer primary key
  postgres::ConnectOptions connect;
  LoadMode mode = LoadMode::kFull;
  WindowOptions window;                          // mode: window
  std::optional<PartitionOptions> partitioning;  // mode: window
  std::string job, pipeline, connection;

  bool is_table() const { return !table.empty(); }
  /// "public.orders" or "the source query".
  std::string What() const { return is_table() ? schema + "." + table : "the source query"; }
  /// The relation the rows come from, as a FROM item.
  std::string FromSql() const {
    if (is_table()) return postgres::QuoteIdent(schema) + "." + postgres::QuoteIdent(table);
    return "(" + query + ") AS src";
  }
};

/// The source's options and the job's load mode (with its window: and partitioning:), checked.
Result<PostgresOptions> ParseOptions(const BindContext& context, const config::Value& options);

/// The options of the postgres source (its descriptor's table; ParseOptions reads their defaults from it).
const std::vector<config::OptionSpec>& PostgresSourceOptionSpecs();

}  // namespace sluice::connectors::pg_source
