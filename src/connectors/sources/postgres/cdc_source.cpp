#include "connectors/sources/postgres/cdc_source.hpp"

#include <fmt/format.h>

#include <cctype>

#include "common/strings.hpp"
#include "config/option_reader.hpp"
#include "connectors/postgres/pg_connection_settings.hpp"
#include "connectors/sources/postgres/cdc_capture.hpp"

namespace sluice::connectors {
namespace {

class PostgresCdcSource final : public Source {
 public:
  PostgresCdcSource(pgcdc::CdcOptions options, SourcePlan plan)
      : options_(std::move(options)), plan_(std::move(plan)) {}

  const SourcePlan& plan() const override { return plan_; }

  Result<std::unique_ptr<SourceReader>> Open(const Checkpoint&, const RunContext&) override {
    return Status::Internal(
        "job '{}' of pipeline '{}' uses mode: cdc, which the pipeline runs through its change capture", options_.job,
        options_.pipeline);
  }

  Result<std::unique_ptr<ChangeCapture>> OpenChangeCapture() override { return pgcdc::MakePgChangeCapture(options_); }

 private:
  pgcdc::CdcOptions options_;
  SourcePlan plan_;
};

/// A slot or publication name sluice derives from the pipeline's: lower case, [a-z0-9_].
std::string DefaultName(const std::string& pipeline) {
  std::string out = "sluice_";
  for (char c : pipeline)
    out.push_back(std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_');
  return out.substr(0, 63);
}

Result<std::string> QualifiedTable(const config::Value& value) {
  SLUICE_ASSIGN_OR_RETURN(auto name, value.AsString());
  auto parts = Split(name, '.');
  if (parts.size() == 1) parts.insert(parts.begin(), "public");
  if (parts.size() != 2 || Trim(parts[0]).empty() || Trim(parts[1]).empty()) {
    return Status::Invalid("{}: table '{}' is not of the form schema.table (e.g. public.orders)",
                           value.location().ToString(), name);
  }
  return Trim(parts[0]) + "." + Trim(parts[1]);
}

}  // namespace

const std::vector<config::OptionSpec>& PostgresCdcKeys() {
  using config::OptionType;
  static const std::vector<config::OptionSpec> kKeys = {
      {"slot", OptionType::kString, "sluice_<pipeline>", false, false,
       "the logical replication slot (pgoutput); created when missing, and then the first run copies the tables from "
       "its snapshot"},
      {"publication", OptionType::kString, "sluice_<pipeline>", false, false,
       "the publication of the tables; created FOR TABLE … when missing"},
      {"commit_every", OptionType::kDuration, "10s", false, false,
       "lake commit cadence while streaming: a micro-batch is committed at least this often when changes arrive"},
      {"max_rows", OptionType::kInt, "100000", false, false, "commit a micro-batch once it holds this many changes"},
      {"max_bytes", OptionType::kByteSize, "64MiB", false, false,
       "commit a micro-batch once its values add up to this many bytes"},
      {"heartbeat", OptionType::kMap, "", false, false,
       "optional write to the source while streaming, so the slot advances when the captured database is idle but "
       "others on the server are busy: sql (run on the source database) and every (default 1m)"},
  };
  return kKeys;
}

const std::vector<config::OptionSpec>& PostgresCdcHeartbeatKeys() {
  using config::OptionType;
  static const std::vector<config::OptionSpec> kKeys = {
      {"sql", OptionType::kString, "", true, false,
       "the statement to run, e.g. an UPDATE of a one-row heartbeat table"},
      {"every", OptionType::kDuration, "1m", false, false,
       "how often while streaming (and once when streaming starts)"},
  };
  return kKeys;
}

Result<std::unique_ptr<Source>> BindPostgresCdc(const BindContext& context, const config::Value& v) {
  std::string where = fmt::format("job '{}' of pipeline '{}'", context.job, context.pipeline);
  pgcdc::CdcOptions o;
  o.location = v.location();
  o.job = context.job;
  o.pipeline = context.pipeline;
  o.connection = context.connection_name;
  SLUICE_ASSIGN_OR_RETURN(auto settings, postgres::ReadConnectionSettings(v, "the postgres source of " + where));
  o.url = std::move(settings.url);
  o.password = std::move(settings.password);
  o.connect = std::move(settings.connect);
  o.connect.application_name = "sluice cdc";

  const auto* table = v.Find("table");
  const auto* tables = v.Find("tables");
  bool has_table = table != nullptr && !table->IsNull();
  bool has_tables = tables != nullptr && !tables->IsNull();
  if (v.Find("query") != nullptr) {
    return Status::Invalid("{}: {} uses mode: cdc, which follows tables: use table: or tables:, not query:",
                           v.Find("query")->location().ToString(), where);
  }
  if (has_table == has_tables) {
    return Status::Invalid(
        "{}: the postgres source of {} (mode: cdc) needs exactly one of table: (schema.table) or "
        "tables: [schema.table, ...]",
        v.location().ToString(), where);
  }
  std::vector<std::string> names;
  if (has_table) {
    SLUICE_ASSIGN_OR_RETURN(auto name, QualifiedTable(*table));
    names.push_back(name);
  } else {
    if (!tables->IsList() || tables->items().empty()) {
      return Status::Invalid("{}: tables: of {} must be a non-empty list of schema.table names",
                             tables->location().ToString(), where);
    }
    for (const auto& item : tables->items()) {
      SLUICE_ASSIGN_OR_RETURN(auto name, QualifiedTable(item));
      names.push_back(name);
    }
  }
  const ReadRequest& request = context.request;
  const std::string& target_table = request.target_table;
  if (!target_table.empty() && names.size() > 1) {
    return Status::Invalid("{}: {} captures {} tables, each into the table of its name: remove target: table:",
                           request.target_table_location.ToString(), where, names.size());
  }
  for (const auto& name : names) {
    CapturedTable t;
    t.source = name;
    t.lake_table = !target_table.empty() ? target_table : name.substr(name.find('.') + 1);
    for (const auto& other : o.tables) {
      if (other.lake_table == t.lake_table) {
        return Status::Invalid("{}: {} and {} of {} would both land in table '{}'; capture them in separate pipelines",
                               v.location().ToString(), other.source, t.source, where, t.lake_table);
      }
      if (other.source == t.source)
        return Status::Invalid("{}: {} names table {} twice", v.location().ToString(), where, name);
    }
    o.tables.push_back(std::move(t));
  }

  o.slot = o.publication = DefaultName(context.pipeline);
  const config::Value& cdc = request.cdc;
  if (!cdc.IsNull()) {
    SLUICE_TRY(config::OptionReader::Validated(cdc, PostgresCdcKeys(), fmt::format("cdc: of {}", where)).status());
    // Their defaults name the pipeline, so they are not the table's literal defaults.
    SLUICE_ASSIGN_OR_RETURN(o.slot, cdc.GetString("slot", o.slot));
    SLUICE_ASSIGN_OR_RETURN(o.publication, cdc.GetString("publication", o.publication));
  }
  config::OptionReader keys(cdc, PostgresCdcKeys());
  SLUICE_ASSIGN_OR_RETURN(auto commit_every, keys.Duration("commit_every"));
  o.commit_every = std::chrono::duration_cast<std::chrono::milliseconds>(commit_every);
  SLUICE_ASSIGN_OR_RETURN(o.max_rows, keys.Int("max_rows"));
  SLUICE_ASSIGN_OR_RETURN(auto max_bytes, keys.ByteSize("max_bytes"));
  o.max_bytes = static_cast<int64_t>(max_bytes);
  if (o.max_rows < 1 || o.max_bytes < 1 || o.commit_every.count() < 1) {
    return Status::Invalid("{}: cdc: commit_every, max_rows and max_bytes of {} must be positive",
                           cdc.location().ToString(), where);
  }
  if (const auto* heartbeat = keys.Find("heartbeat"); heartbeat != nullptr && !heartbeat->IsNull()) {
    SLUICE_ASSIGN_OR_RETURN(auto heartbeat_keys,
                            config::OptionReader::Validated(*heartbeat, PostgresCdcHeartbeatKeys(),
                                                            fmt::format("cdc: heartbeat: of {}", where)));
    SLUICE_ASSIGN_OR_RETURN(o.heartbeat_sql, heartbeat_keys.String("sql"));
    o.heartbeat_location = heartbeat->KeyLocation("sql");
    if (Trim(o.heartbeat_sql).empty()) {
      return Status::Invalid(
          "{}: cdc: heartbeat: sql of {} is empty; give the statement to run (e.g. UPDATE "
          "sluice_heartbeat SET at = now())",
          heartbeat->location().ToString(), where);
    }
    SLUICE_ASSIGN_OR_RETURN(auto every, heartbeat_keys.Duration("every"));
    o.heartbeat_every = std::chrono::duration_cast<std::chrono::milliseconds>(every);
    if (o.heartbeat_every.count() < 1) {
      return Status::Invalid("{}: cdc: heartbeat: every of {} must be positive", heartbeat->location().ToString(),
                             where);
    }
  }
  SourcePlan plan;
  plan.connector = "postgres";
  plan.origin = context.connection_name.empty() ? "postgres" : context.connection_name;
  plan.description = fmt::format("PostgreSQL change log of {} (slot {})", Join(names, ", "), o.slot);
  plan.is_incremental = true;
  return std::unique_ptr<Source>(std::make_unique<PostgresCdcSource>(std::move(o), std::move(plan)));
}

}  // namespace sluice::connectors
