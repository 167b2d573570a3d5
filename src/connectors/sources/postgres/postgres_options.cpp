#include "connectors/sources/postgres/postgres_options.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/strings.hpp"
#include "connectors/postgres/pg_connection_settings.hpp"

namespace sluice::connectors::pg_source {
namespace {

/// A scalar of window: as text ("2018-11-04 00:00:00", 100, 1 day).
Result<std::string> ScalarText(const config::Value& map, const char* key, const std::string& where) {
  const auto* v = map.Find(key);
  if (v == nullptr || v->IsNull() || !v->IsScalar() || v->scalar().empty()) {
    return Status::Invalid("{}: window: of {} needs {}: (column, start, stop and step, e.g. step: 1 day)",
                           map.location().ToString(), where, key);
  }
  return v->scalar();
}

Result<WindowOptions> ParseWindow(const config::JobConfig& job, const std::string& where) {
  const auto& w = job.window;
  if (!w.IsMap()) return Status::Invalid("{}: {} uses mode: window, which needs a window: map", job.location.ToString(), where);
  for (const auto& [key, value] : w.entries()) {
    static const std::vector<std::string> kKeys = {"column", "start", "stop", "step"};
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
      std::string hint = NearestWord(key, kKeys);
      return Status::Invalid("{}: unknown key '{}' in window: of {}{}", value.location().ToString(), key, where,
                             hint.empty() ? "; keys are column, start, stop, step" : fmt::format(" (did you mean '{}'?)", hint));
    }
  }
  WindowOptions o;
  SLUICE_ASSIGN_OR_RETURN(o.column, ScalarText(w, "column", where));
  SLUICE_ASSIGN_OR_RETURN(o.start, ScalarText(w, "start", where));
  SLUICE_ASSIGN_OR_RETURN(o.stop, ScalarText(w, "stop", where));
  SLUICE_ASSIGN_OR_RETURN(o.step, ScalarText(w, "step", where));
  return o;
}

Result<PartitionOptions> ParsePartitioning(const config::Value& p, const std::string& where) {
  for (const auto& [key, value] : p.entries()) {
    static const std::vector<std::string> kKeys = {"column", "lower_bound", "upper_bound", "num_partitions"};
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
      std::string hint = NearestWord(key, kKeys);
      return Status::Invalid("{}: unknown key '{}' in partitioning: of {}{}", value.location().ToString(), key, where,
                             hint.empty() ? "; keys are column, lower_bound, upper_bound, num_partitions"
                                          : fmt::format(" (did you mean '{}'?)", hint));
    }
  }
  PartitionOptions o;
  SLUICE_ASSIGN_OR_RETURN(o.column, p.GetString("column", ""));
  if (o.column.empty()) return Status::Invalid("{}: partitioning: of {} needs column:", p.location().ToString(), where);
  SLUICE_ASSIGN_OR_RETURN(o.lower_bound, p.GetInt("lower_bound", 0));
  SLUICE_ASSIGN_OR_RETURN(o.upper_bound, p.GetInt("upper_bound", 0));
  SLUICE_ASSIGN_OR_RETURN(o.num_partitions, p.GetInt("num_partitions", 1));
  if (o.num_partitions < 1 || o.num_partitions > 64) {
    return Status::Invalid("{}: num_partitions of {} must be between 1 and 64", p.location().ToString(), where);
  }
  if (o.upper_bound <= o.lower_bound && o.num_partitions > 1) {
    return Status::Invalid("{}: partitioning: of {} needs lower_bound < upper_bound", p.location().ToString(), where);
  }
  return o;
}

}  // namespace

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
    return Status::Invalid("{}: the postgres source of {} needs exactly one of table: (schema.table) or query: (a SELECT)",
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
  SLUICE_ASSIGN_OR_RETURN(o.cursor, v.GetString("cursor", ""));
  if (const auto* lookback = v.Find("lookback")) o.lookback = *lookback;
  SLUICE_ASSIGN_OR_RETURN(o.batch_rows, v.GetInt("batch_rows", kDefaultBatchRows));
  if (o.batch_rows <= 0) {
    return Status::Invalid("{}: batch_rows must be at least 1 (default {})", v.Find("batch_rows")->location().ToString(),
                           kDefaultBatchRows);
  }
  SLUICE_ASSIGN_OR_RETURN(o.cast_unsupported_to_text, v.GetBool("cast_unsupported_to_text", false));
  SLUICE_ASSIGN_OR_RETURN(o.resumable, v.GetBool("resumable", true));
  SLUICE_ASSIGN_OR_RETURN(o.server_side_hash, v.GetBool("server_side_hash", true));
  SLUICE_ASSIGN_OR_RETURN(o.read_connections, v.GetInt("read_connections", 2));
  if (o.read_connections < 1 || o.read_connections > 16) {
    return Status::Invalid("{}: read_connections must be 1..16 (default 2)", v.Find("read_connections")->location().ToString());
  }
  SLUICE_ASSIGN_OR_RETURN(o.chunk_by, v.GetString("chunk_by", ""));
  SLUICE_ASSIGN_OR_RETURN(o.connect_retries, v.GetInt("connect_retries", 2));
  if (o.connect_retries < 0) {
    return Status::Invalid("{}: connect_retries must be 0 or more", v.Find("connect_retries")->location().ToString());
  }

  config::LoadMode mode = context.job_config != nullptr ? context.job_config->mode : config::LoadMode::kFull;
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
      if (context.job_config->primary_key.empty()) {
        return Status::Invalid(
            "{}: {} uses mode: changes, which needs primary_key: (the columns identifying a row, e.g. primary_key: "
            "[id])",
            context.job_config->location.ToString(), where);
      }
      break;
    case config::LoadMode::kWindow: {
      o.mode = LoadMode::kWindow;
      SLUICE_ASSIGN_OR_RETURN(o.window, ParseWindow(*context.job_config, where));
      if (context.job_config->partitioning.IsMap()) {
        SLUICE_ASSIGN_OR_RETURN(o.partitioning, ParsePartitioning(context.job_config->partitioning, where));
      }
      break;
    }
    case config::LoadMode::kCdc: {  // the source binds mode: cdc with BindPostgresCdc, before these options
      config::Location at = context.job_config->location;
      if (const auto* m = context.job_config->raw.Find("mode")) at = m->location();
      return Status::Invalid(
          "{}: mode: {} of {} is not available for the postgres source yet; use mode: full (copy the table each "
          "run), mode: incremental with cursor: <column>, or mode: changes with primary_key:",
          at.ToString(), config::ToString(mode), where);
    }
  }
  return o;
}

}  // namespace sluice::connectors::pg_source
