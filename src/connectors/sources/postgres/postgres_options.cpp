#include "connectors/sources/postgres/postgres_options.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/strings.hpp"
#include "config/option_reader.hpp"
#include "connectors/postgres/pg_connection_settings.hpp"
#include "connectors/sources/postgres/postgres_source.hpp"

namespace sluice::connectors {

const std::vector<config::OptionSpec>& PostgresWindowKeys() {
  using config::OptionType;
  static const std::vector<config::OptionSpec> kKeys = {
      {"column", OptionType::kString, "", true, false, "the timestamp, timestamptz, date or integer column to window"},
      {"start", OptionType::kString, "", true, false,
       "the first window's start, a value PostgreSQL casts to the column's type; afterwards the stored window is "
       "used"},
      {"stop", OptionType::kString, "", true, false, "the first window's end (exclusive)"},
      {"step", OptionType::kString, "", true, false,
       "how far the window moves after each successful run: a PostgreSQL interval (1 day, 6 hours) or, for an "
       "integer column, a number"},
  };
  return kKeys;
}

const std::vector<config::OptionSpec>& PostgresPartitioningKeys() {
  using config::OptionType;
  static const std::vector<config::OptionSpec> kKeys = {
      {"column", OptionType::kString, "", true, false, "the integer column whose ranges the connections read"},
      {"lower_bound", OptionType::kInt, "0", false, false,
       "the first range starts here (it also takes smaller values and NULLs)"},
      {"upper_bound", OptionType::kInt, "0", false, false,
       "the last range ends here (it also takes larger values); must be above lower_bound when num_partitions > 1"},
      {"num_partitions", OptionType::kInt, "1", false, false,
       "ranges, each read by its own connection in one snapshot (1–64)"},
  };
  return kKeys;
}

}  // namespace sluice::connectors

namespace sluice::connectors::pg_source {
namespace {

Result<WindowOptions> ParseWindow(const ReadRequest& request, const std::string& where) {
  const auto& w = request.window;
  if (!w.IsMap()) {
    return Status::Invalid("{}: {} uses mode: window, which needs a window: map", request.job_location.ToString(),
                           where);
  }
  SLUICE_ASSIGN_OR_RETURN(
      auto keys, config::OptionReader::Validated(w, PostgresWindowKeys(), fmt::format("window: of {}", where)));
  WindowOptions o;
  SLUICE_ASSIGN_OR_RETURN(o.column, keys.String("column"));
  SLUICE_ASSIGN_OR_RETURN(o.start, keys.String("start"));
  SLUICE_ASSIGN_OR_RETURN(o.stop, keys.String("stop"));
  SLUICE_ASSIGN_OR_RETURN(o.step, keys.String("step"));
  for (const auto& [key, value] : std::initializer_list<std::pair<const char*, const std::string*>>{
           {"column", &o.column}, {"start", &o.start}, {"stop", &o.stop}, {"step", &o.step}}) {
    if (Trim(*value).empty()) {
      return Status::Invalid("{}: {} of window: of {} is empty; give it a value (e.g. step: 1 day)",
                             w.KeyLocation(key).ToString(), key, where);
    }
  }
  return o;
}

Result<PartitionOptions> ParsePartitioning(const config::Value& p, const std::string& where) {
  SLUICE_ASSIGN_OR_RETURN(auto keys, config::OptionReader::Validated(p, PostgresPartitioningKeys(),
                                                                     fmt::format("partitioning: of {}", where)));
  PartitionOptions o;
  SLUICE_ASSIGN_OR_RETURN(o.column, keys.String("column"));
  SLUICE_ASSIGN_OR_RETURN(o.lower_bound, keys.Int("lower_bound"));
  SLUICE_ASSIGN_OR_RETURN(o.upper_bound, keys.Int("upper_bound"));
  SLUICE_ASSIGN_OR_RETURN(o.num_partitions, keys.Int("num_partitions"));
  if (o.num_partitions < 1 || o.num_partitions > 64) {
    return Status::Invalid("{}: num_partitions of {} must be between 1 and 64", p.location().ToString(), where);
  }
  if (o.upper_bound <= o.lower_bound && o.num_partitions > 1) {
    return Status::Invalid("{}: partitioning: of {} needs lower_bound < upper_bound", p.location().ToString(), where);
  }
  return o;
}

}  // namespace

const std::vector<config::OptionSpec>& PostgresSourceOptionSpecs() {
  using config::OptionType;
  static const std::vector<config::OptionSpec> kSpecs = postgres::WithConnectionOptions({
      {"table", OptionType::kString, "", false, false,
       "schema.table (or table, in schema public) to read; or use query:"},
      {"tables", OptionType::kStringList, "", false, false,
       "mode: cdc: the tables to follow, each into the lake table of its name (or table: for one)"},
      {"query", OptionType::kString, "", false, false, "a SELECT whose rows to read, instead of table:"},
      {"columns", OptionType::kStringList, "", false, false, "only these columns, in this order; omitted = all"},
      {"cursor", OptionType::kString, "", false, false,
       "mode: incremental: the timestamp, date or integer column that grows when a row is added or changed"},
      {"lookback", OptionType::kString, "", false, false,
       "mode: incremental: re-read this much below the watermark (a duration such as 10m for time cursors, a number "
       "for integer cursors)"},
      {"batch_rows", OptionType::kInt, "500000", false, false,
       "rows per part handed to the lake when rows are held in batches (bounds memory), and per chunk of a resumable "
       "full load (per connection when it is streamed over several; a streamed load is bounded by the engine's row "
       "groups)"},
      {"cast_unsupported_to_text", OptionType::kBool, "false", false, false,
       "read columns of unsupported types (inet, ranges, …) as text instead of failing"},
      {"resumable", OptionType::kBool, "true", false, false,
       "mode: full of a table: read it in chunks of batch_rows rows in key order, so that an interrupted load resumes "
       "from its last completed chunk (needs a single-column integer primary key, or chunk_by)"},
      {"read_connections", OptionType::kInt, "2", false, false,
       "mode: full of a table: connections that read it side by side in one snapshot, each decoded and written by its "
       "own engine thread (by ranges of the chunk key, or of physical blocks on PostgreSQL 14+); more than the "
       "engine's "
       "threads gains nothing; 1 reads with one"},
      {"server_side_hash", OptionType::kBool, "true", false, false,
       "mode: changes: PostgreSQL hashes the rows (14 or later) and only changed rows are transferred; false = every "
       "row is transferred and hashed by sluice"},
      {"chunk_by", OptionType::kString, "", false, false,
       "mode: full: the unique (uniquely indexed) integer NOT NULL column whose order the chunks follow; omitted = the "
       "primary key"},
      {"connect_retries", OptionType::kInt, "2", false, false,
       "retry a connection that failed for a transient reason (refused, too many clients, starting up) this many "
       "times"},
  });
  return kSpecs;
}

Result<PostgresOptions> ParseOptions(const BindContext& context, const config::Value& v) {
  PostgresOptions o;
  o.location = v.location();
  o.job = context.job;
  o.pipeline = context.pipeline;
  o.connection = context.connection_name;
  std::string where = fmt::format("job '{}' of pipeline '{}'", context.job, context.pipeline);

  SLUICE_ASSIGN_OR_RETURN(auto settings, postgres::ReadConnectionSettings(v, "the postgres source of " + where));
  o.url = std::move(settings.url);
  o.password = std::move(settings.password);
  o.connect = std::move(settings.connect);

  const auto* table = v.Find("table");
  const auto* query = v.Find("query");
  bool has_table = table != nullptr && !table->IsNull();
  bool has_query = query != nullptr && !query->IsNull();
  if (has_table == has_query) {
    return Status::Invalid(
        "{}: the postgres source of {} needs exactly one of table: (schema.table) or query: (a SELECT)",
        v.location().ToString(), where);
  }
  if (has_table) {
    SLUICE_ASSIGN_OR_RETURN(auto name, table->AsString());
    auto parts = Split(name, '.');
    if (parts.size() == 1) {
      o.schema = "public";
      o.table = Trim(parts[0]);
    } else if (parts.size() == 2) {
      o.schema = Trim(parts[0]);
      o.table = Trim(parts[1]);
    }
    if (o.schema.empty() || o.table.empty()) {
      return Status::Invalid("{}: table: '{}' is not of the form schema.table (e.g. public.orders)",
                             table->location().ToString(), name);
    }
  } else {
    SLUICE_ASSIGN_OR_RETURN(o.query, query->AsString());
    o.query = Trim(o.query);
    while (!o.query.empty() && o.query.back() == ';') o.query = Trim(o.query.substr(0, o.query.size() - 1));
    if (o.query.empty()) return Status::Invalid("{}: query: is empty", query->location().ToString());
  }

  if (const auto* columns = v.Find("columns"); columns != nullptr && !columns->IsNull()) {
    SLUICE_ASSIGN_OR_RETURN(o.columns, columns->AsStringList());
  }
  config::OptionReader options(v, PostgresSourceOptionSpecs());
  SLUICE_ASSIGN_OR_RETURN(o.cursor, options.String("cursor"));
  if (const auto* lookback = v.Find("lookback")) o.lookback = *lookback;
  SLUICE_ASSIGN_OR_RETURN(o.batch_rows, options.Int("batch_rows"));
  if (o.batch_rows <= 0) {
    return Status::Invalid("{}: batch_rows must be at least 1 (it bounds the rows held at once)",
                           v.Find("batch_rows")->location().ToString());
  }
  SLUICE_ASSIGN_OR_RETURN(o.cast_unsupported_to_text, options.Bool("cast_unsupported_to_text"));
  SLUICE_ASSIGN_OR_RETURN(o.resumable, options.Bool("resumable"));
  SLUICE_ASSIGN_OR_RETURN(o.server_side_hash, options.Bool("server_side_hash"));
  SLUICE_ASSIGN_OR_RETURN(o.read_connections, options.Int("read_connections"));
  if (o.read_connections < 1 || o.read_connections > 16) {
    return Status::Invalid("{}: read_connections must be 1..16 (default 2)",
                           v.Find("read_connections")->location().ToString());
  }
  SLUICE_ASSIGN_OR_RETURN(o.chunk_by, options.String("chunk_by"));
  SLUICE_ASSIGN_OR_RETURN(o.connect_retries, options.Int("connect_retries"));
  if (o.connect_retries < 0) {
    return Status::Invalid("{}: connect_retries must be 0 or more", v.Find("connect_retries")->location().ToString());
  }

  const ReadRequest& request = context.request;
  config::LoadMode mode = request.mode;
  switch (mode) {
    case config::LoadMode::kFull:
      o.mode = LoadMode::kFull;
      if (!o.cursor.empty()) {
        spdlog::warn("{}: cursor: {} is ignored because {} uses mode: full (each run copies everything)",
                     v.Find("cursor")->location().ToString(), o.cursor, where);
      }
      break;
    case config::LoadMode::kIncremental:
      o.mode = LoadMode::kIncremental;
      if (o.cursor.empty()) {
        return Status::Invalid(
            "{}: {} uses mode: incremental, which needs the source key 'cursor': the column that grows when a row is "
            "added or changed (e.g. cursor: updated_at)",
            v.location().ToString(), where);
      }
      break;
    case config::LoadMode::kChanges:
      o.mode = LoadMode::kChanges;
      if (request.primary_key.empty()) {
        return Status::Invalid(
            "{}: {} uses mode: changes, which needs primary_key: (the columns identifying a row, e.g. primary_key: "
            "[id])",
            request.job_location.ToString(), where);
      }
      break;
    case config::LoadMode::kWindow: {
      o.mode = LoadMode::kWindow;
      SLUICE_ASSIGN_OR_RETURN(o.window, ParseWindow(request, where));
      if (request.partitioning.IsMap()) {
        SLUICE_ASSIGN_OR_RETURN(o.partitioning, ParsePartitioning(request.partitioning, where));
      }
      break;
    }
    case config::LoadMode::kCdc: {  // the source binds mode: cdc with BindPostgresCdc, before these options
      return Status::Invalid(
          "{}: mode: {} of {} is not available for the postgres source yet; use mode: full (copy the table each "
          "run), mode: incremental with cursor: <column>, or mode: changes with primary_key:",
          request.mode_location.ToString(), config::ToString(mode), where);
    }
  }
  return o;
}

}  // namespace sluice::connectors::pg_source
