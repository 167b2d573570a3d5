#include "connectors/sinks/postgres/postgres_sink.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>

#include "common/fault_point.hpp"
#include "common/strings.hpp"
#include "config/job_modes.hpp"
#include "config/option_reader.hpp"
#include "connectors/postgres/pg_client.hpp"
#include "connectors/postgres/pg_connection_settings.hpp"
#include "connectors/postgres/pg_copy_writer.hpp"
#include "connectors/sinks/postgres/pg_target_schema.hpp"
#include "engine/column_stream.hpp"

namespace sluice::connectors {
namespace {

using postgres::PgClient;
using postgres::PgTargetColumn;
using postgres::QuoteIdent;
using postgres::QuoteLiteral;

/// write: of this sink — how a run's rows meet the table's (the lake's overwrite is replace here).
enum class TableWrite { kAppend, kReplace, kMerge };
constexpr std::array<std::pair<TableWrite, const char*>, 3> kTableWrites{{
    {TableWrite::kAppend, "append"},
    {TableWrite::kReplace, "replace"},
    {TableWrite::kMerge, "merge"},
}};

const char* ToString(TableWrite write) {
  for (const auto& [value, name] : kTableWrites) {
    if (value == write) return name;
  }
  return "unknown";
}

/// analyze: of this sink — when to refresh the planner's statistics of the table.
enum class AnalyzeWhen { kAuto, kAlways, kNever };
constexpr std::array<std::pair<AnalyzeWhen, const char*>, 3> kAnalyzeWhens{{
    {AnalyzeWhen::kAuto, "auto"},
    {AnalyzeWhen::kAlways, "always"},
    {AnalyzeWhen::kNever, "never"},
}};

constexpr const char* kLoadsTable = "_sluice_loads";
constexpr const char* kChangeType = "_change_type";

struct PgSinkOptions {
  std::string url;
  std::optional<Secret> password;
  postgres::ConnectOptions connect;
  std::string connection;  // name in sluice.yaml, for messages
  std::string schema = "public";
  std::string table;
  TableWrite write = TableWrite::kAppend;
  std::vector<std::string> primary_key;
  bool apply_deletes = false;
  AnalyzeWhen analyze = AnalyzeWhen::kAuto;
  std::string where;  // "target of job 'x' in pipeline 'p'"

  std::string Qualified() const { return QuoteIdent(schema) + "." + QuoteIdent(table); }
  std::string Loads() const { return QuoteIdent(schema) + "." + QuoteIdent(kLoadsTable); }
  std::string Display() const { return schema + "." + table; }
};

const std::vector<config::OptionSpec>& PgSinkOptionSpecs() {
  using config::OptionType;
  static const std::vector<config::OptionSpec> kSpecs = postgres::WithConnectionOptions({
      {"schema", OptionType::kString, "public", false, false, "schema of the table; created when missing"},
      {"table", OptionType::kString, "", true, false,
       "the table to write; created from the job's output when missing, new columns added as nullable"},
      {"write", OptionType::kString, "append", false, false,
       "append | replace (readers see the old rows until the new ones are committed) | merge (upsert by primary_key; "
       "with deletes: apply, rows with _change_type = delete remove the key)"},
      {"analyze", OptionType::kString, "auto", false, false,
       "auto (refresh the table's planner statistics in the load's transaction when the table was created or "
       "replaced, so the next query is planned on real numbers) | always (after every write) | never"},
  });
  return kSpecs;
}

Result<PgSinkOptions> ParseOptions(const SinkBindContext& context, const config::Value& v) {
  PgSinkOptions o;
  o.connection = context.connection_name;
  o.where = fmt::format("target of job '{}' in pipeline '{}'", context.job, context.pipeline);
  SLUICE_ASSIGN_OR_RETURN(auto settings, postgres::ReadConnectionSettings(v, "the " + o.where));
  o.url = std::move(settings.url);
  o.password = std::move(settings.password);
  o.connect = std::move(settings.connect);
  o.connect.application_name = "sluice (" + context.pipeline + "/" + context.job + ")";
  config::OptionReader options(v, PgSinkOptionSpecs());
  SLUICE_ASSIGN_OR_RETURN(o.schema, options.String("schema"));
  SLUICE_ASSIGN_OR_RETURN(o.table, options.String("table"));
  if (o.table.empty()) {
    return Status::Invalid("{}: {} needs table: (the table to write, e.g. table: orders with schema: staging)",
                           v.location().ToString(), o.where);
  }
  if (auto dot = o.table.find('.'); dot != std::string::npos && v.Find("schema") == nullptr) {
    o.schema = o.table.substr(0, dot);
    o.table = o.table.substr(dot + 1);
  }
  SLUICE_ASSIGN_OR_RETURN(std::string write, options.String("write"));
  auto known = std::find_if(kTableWrites.begin(), kTableWrites.end(), [&](const auto& w) { return write == w.second; });
  if (known == kTableWrites.end()) {
    std::string hint = write == config::ToString(config::WriteMode::kOverwrite)
                           ? " (replace swaps the table's rows in one transaction)"
                           : "";
    return Status::Invalid("{}: write '{}' of {} is not one of append, replace, merge{}",
                           v.Find("write")->location().ToString(), write, o.where, hint);
  }
  o.write = known->first;
  SLUICE_ASSIGN_OR_RETURN(std::string analyze, options.String("analyze"));
  auto when =
      std::find_if(kAnalyzeWhens.begin(), kAnalyzeWhens.end(), [&](const auto& a) { return analyze == a.second; });
  if (when == kAnalyzeWhens.end()) {
    return Status::Invalid("{}: analyze '{}' of {} is not one of auto, always, never",
                           v.Find("analyze")->location().ToString(), analyze, o.where);
  }
  o.analyze = when->first;
  o.primary_key = context.primary_key;
  o.apply_deletes = context.apply_deletes;
  if (o.write == TableWrite::kMerge && o.primary_key.empty()) {
    return Status::Invalid("{}: {} has write: merge but the job has no primary_key: to merge on",
                           v.location().ToString(), o.where);
  }
  return o;
}

Result<std::unique_ptr<PgClient>> Connect(const PgSinkOptions& o) {
  auto client = PgClient::Connect(o.url, o.password, o.connect);
  if (!client.ok()) {
    return client.status().WithContext("connecting to the database{} for the {}",
                                       o.connection.empty() ? "" : " of connection '" + o.connection + "'", o.where);
  }
  return client;
}

/// The existing table's columns in order; empty when the table does not exist.
Result<std::vector<pg_target::ExistingColumn>> ReadColumns(PgClient& client, const PgSinkOptions& o) {
  SLUICE_ASSIGN_OR_RETURN(
      auto rows,
      client.QueryParams(
          "SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS sql_type, "
          "CASE WHEN t.typcategory = 'A' THEN e.typname ELSE t.typname END AS type_name, "
          "(t.typcategory = 'A')::text AS is_array, a.attnotnull::text AS not_null "
          "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
          "JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_type e ON e.oid = t.typelem "
          "WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
          {o.schema, o.table}));
  std::vector<pg_target::ExistingColumn> columns;
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    columns.push_back({rows.Get(r, "attname"), rows.Get(r, "sql_type"), rows.Get(r, "type_name"),
                       rows.Get(r, "is_array") == "true", rows.Get(r, "not_null") == "true"});
  }
  return columns;
}

Status EnsureLoadsTable(PgClient& client, const PgSinkOptions& o) {
  // Its own short transaction: concurrent jobs creating it at once must not fail each other's load.
  Status created = client.Execute(fmt::format(
      "CREATE TABLE IF NOT EXISTS {} (scope text NOT NULL, target_table text NOT NULL, load_id text NOT NULL, "
      "state_json text NOT NULL, rows bigint NOT NULL, committed_at timestamptz NOT NULL DEFAULT now(), "
      "PRIMARY KEY (scope, target_table))",
      o.Loads()));
  if (created.ok()) return created;
  SLUICE_ASSIGN_OR_RETURN(auto exists,
                          client.QueryParams("SELECT to_regclass($1) IS NOT NULL AS present", {o.Loads()}));
  if (exists.Get(0, "present") == "t") return Status::OK();
  return created;
}

Status EnsureSchema(PgClient& client, const PgSinkOptions& o) {
  auto exists = [&]() -> Result<bool> {
    SLUICE_ASSIGN_OR_RETURN(auto rows, client.QueryParams("SELECT 1 FROM pg_namespace WHERE nspname = $1", {o.schema}));
    return !rows.rows.empty();
  };
  SLUICE_ASSIGN_OR_RETURN(bool present, exists());
  if (present) return Status::OK();
  // Jobs of one run writing to the same new schema race to create it; IF NOT EXISTS does not
  // stop the loser failing on the catalog's unique index, so it checks again.
  Status created = client.Execute("CREATE SCHEMA IF NOT EXISTS " + QuoteIdent(o.schema));
  if (created.ok()) return created;
  SLUICE_ASSIGN_OR_RETURN(present, exists());
  return present ? Status::OK() : created;
}

class PostgresSinkWriter final : public SinkWriter {
 public:
  PostgresSinkWriter(const PgSinkOptions& options, std::unique_ptr<PgClient> client)
      : o_(options), client_(std::move(client)) {}

  ~PostgresSinkWriter() override {
    if (!committed_ && client_) (void)client_->Execute("ROLLBACK");
  }

  Status Begin() {
    SLUICE_TRY(EnsureSchema(*client_, o_));
    SLUICE_TRY(EnsureLoadsTable(*client_, o_));
    return client_->Execute("BEGIN");
  }

  Result<int64_t> Write(engine::Connection& connection, const std::string& relation) override {
    SLUICE_ASSIGN_OR_RETURN(auto columns, connection.Describe("SELECT * FROM " + SqlIdent(relation)));
    SLUICE_TRY(PrepareTarget(columns));
    std::vector<std::string> selects;
    std::vector<PgTargetColumn> targets;
    std::vector<std::string> names;
    for (const auto& column : columns) {
      auto target = copy_columns_.find(column.name);
      if (target == copy_columns_.end()) continue;  // _change_type outside a merge
      SLUICE_ASSIGN_OR_RETURN(auto select, pg_target::SelectFor(column, target->second, o_.Display()));
      selects.push_back(fmt::format("{} AS {}", select, SqlIdent(column.name)));
      targets.push_back(target->second);
      names.push_back(QuoteIdent(column.name));
    }
    if (targets.empty()) return Status::Invalid("the job's output has no columns to write to {}", o_.Display());
    SLUICE_ASSIGN_OR_RETURN(
        auto stream,
        engine::StreamColumns(connection, fmt::format("SELECT {} FROM {}", Join(selects, ", "), SqlIdent(relation))));
    // A table created or emptied by this transaction takes its rows frozen: nobody can see them
    // before the commit anyway, and readers afterwards (the analytics right after a staging
    // load) need not rewrite every page to set hint bits.
    std::string copy_sql = fmt::format("COPY {} ({}) FROM STDIN (FORMAT binary{})", copy_into_, Join(names, ", "),
                                       fresh_in_transaction_ ? ", FREEZE" : "");
    SLUICE_ASSIGN_OR_RETURN(auto copy, postgres::CopyInWriter::Start(*client_, copy_sql, std::move(targets)));
    for (;;) {
      SLUICE_ASSIGN_OR_RETURN(uint64_t rows, stream->Next());
      if (rows == 0) break;
      SLUICE_TRY(copy->WriteChunk(*stream, rows));
    }
    SLUICE_ASSIGN_OR_RETURN(int64_t written, copy->Finish());
    bytes_ += static_cast<int64_t>(copy->bytes_sent());
    rows_ += written;
    return written;
  }

  Status Commit(const LoadRecord& record) override {
    if (o_.write == TableWrite::kMerge && prepared_) SLUICE_TRY(MergeStaged());
    if (ShouldAnalyze()) SLUICE_TRY(client_->Execute("ANALYZE " + o_.Qualified()));
    SLUICE_TRY(client_
                   ->QueryParams(
                       fmt::format("INSERT INTO {} (scope, target_table, load_id, state_json, rows) "
                                   "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope, target_table) DO UPDATE "
                                   "SET load_id = EXCLUDED.load_id, state_json = EXCLUDED.state_json, "
                                   "rows = EXCLUDED.rows, committed_at = now()",
                                   o_.Loads()),
                       {record.scope, o_.table, record.load_id.value, record.state_json, std::to_string(record.rows)})
                   .status());
    SLUICE_FAULT_POINT("sink_commit");
    SLUICE_TRY(client_->Execute("COMMIT"));
    committed_ = true;
    return Status::OK();
  }

  int64_t BytesWritten() const override { return bytes_; }
  std::vector<std::string> Outputs() const override {
    return {fmt::format("{}{}", o_.connection.empty() ? "" : o_.connection + ": ", o_.Display())};
  }
  void Interrupt() override {
    if (client_) (void)client_->Cancel();
  }

 private:
  /// Before the first part: the table exists with every column of the job's output (created or
  /// widened by new nullable columns), `replace` has emptied it inside the transaction, `merge`
  /// has its staging table. Later parts only add columns they bring.
  Status PrepareTarget(const std::vector<engine::ColumnDescription>& columns) {
    if (!prepared_) {
      SLUICE_ASSIGN_OR_RETURN(existing_, ReadColumns(*client_, o_));
      if (existing_.empty()) SLUICE_TRY(CreateTable(columns));
    }
    for (const auto& column : columns) {
      if (IsChangeType(column.name) || copy_columns_.count(column.name) > 0) continue;
      auto found =
          std::find_if(existing_.begin(), existing_.end(), [&](const auto& e) { return e.name == column.name; });
      PgTargetColumn target;
      if (found != existing_.end()) {
        auto writable = pg_target::WritableColumn(*found);
        if (!writable.ok()) return writable.status().WithContext("{} ({})", o_.Display(), o_.where);
        target = *writable;
        SLUICE_TRY(pg_target::SelectFor(column, target, o_.Display()).status());
      } else {
        target = pg_target::ColumnFor(column);
        SLUICE_TRY(client_->Execute(
            fmt::format("ALTER TABLE {} ADD COLUMN {} {}", o_.Qualified(), QuoteIdent(column.name), target.sql_type)));
        spdlog::info("{}: added column {} {} to {}", o_.where, column.name, target.sql_type, o_.Display());
        existing_.push_back({column.name, target.sql_type, "", target.array, false});
      }
      target_columns_.push_back(target);
      copy_columns_[column.name] = target;
      if (prepared_ && o_.write == TableWrite::kMerge) {
        SLUICE_TRY(client_->Execute(
            fmt::format("ALTER TABLE _sluice_stage ADD COLUMN {} {}", QuoteIdent(column.name), target.sql_type)));
      }
    }
    if (prepared_) return Status::OK();
    prepared_ = true;
    if (o_.write == TableWrite::kReplace) {
      SLUICE_TRY(client_->Execute("TRUNCATE " + o_.Qualified()));
      fresh_in_transaction_ = true;
      target_replaced_ = true;
    }
    copy_into_ = o_.Qualified();
    if (o_.write == TableWrite::kMerge) SLUICE_TRY(CreateStaging(columns));
    return Status::OK();
  }

  /// A table created or replaced by this transaction has no statistics, or ones describing rows
  /// that are gone; autovacuum fixes that only a minute or more later, while the next job's query
  /// (the analytics right after a staging load) is planned now — on guesses that can be off by
  /// orders of magnitude. Appends and merges change the table's shape gradually: autovacuum's job.
  bool ShouldAnalyze() const {
    if (!prepared_ || o_.analyze == AnalyzeWhen::kNever) return false;
    return o_.analyze == AnalyzeWhen::kAlways || target_replaced_;
  }

  bool IsChangeType(const std::string& name) const { return name == kChangeType && o_.write == TableWrite::kMerge; }

  Status CreateTable(const std::vector<engine::ColumnDescription>& columns) {
    std::vector<std::string> definitions;
    for (const auto& column : columns) {
      if (IsChangeType(column.name)) continue;
      definitions.push_back(QuoteIdent(column.name) + " " + pg_target::ColumnFor(column).sql_type);
    }
    if (o_.write == TableWrite::kMerge) {
      std::vector<std::string> key;
      for (const auto& k : o_.primary_key) {
        if (std::none_of(columns.begin(), columns.end(), [&](const auto& c) { return c.name == k; })) {
          return Status::Invalid("primary_key column '{}' of {} is not in the job's output", k, o_.where);
        }
        key.push_back(QuoteIdent(k));
      }
      definitions.push_back(fmt::format("PRIMARY KEY ({})", Join(key, ", ")));
    }
    SLUICE_TRY(client_->Execute(fmt::format("CREATE TABLE {} ({})", o_.Qualified(), Join(definitions, ", "))));
    fresh_in_transaction_ = true;
    target_replaced_ = true;
    spdlog::info("{}: created table {}", o_.where, o_.Display());
    SLUICE_ASSIGN_OR_RETURN(existing_, ReadColumns(*client_, o_));
    return Status::OK();
  }

  /// merge: the parts land in a temporary table first; Commit applies them to the target.
  Status CreateStaging(const std::vector<engine::ColumnDescription>& columns) {
    std::vector<std::string> definitions;
    for (const auto& target : target_columns_) definitions.push_back(QuoteIdent(target.name) + " " + target.sql_type);
    has_change_type_ = std::any_of(columns.begin(), columns.end(), [](const auto& c) { return c.name == kChangeType; });
    if (has_change_type_) {
      definitions.push_back(QuoteIdent(kChangeType) + " text");
      copy_columns_[kChangeType] = PgTargetColumn{kChangeType, "text", postgres::PgScalar::kText, false};
    }
    definitions.push_back("_sluice_seq bigint GENERATED ALWAYS AS IDENTITY");
    copy_into_ = "_sluice_stage";
    fresh_in_transaction_ = true;
    return client_->Execute(
        fmt::format("CREATE TEMP TABLE _sluice_stage ({}) ON COMMIT DROP", Join(definitions, ", ")));
  }

  /// Upsert by primary key: the last staged row of each key wins; with deletes: apply, a last row
  /// marked delete removes the key. Works without a unique index on the target (no ON CONFLICT).
  Status MergeStaged() {
    std::vector<std::string> key_match, assignments, names, values;
    std::set<std::string> keys(o_.primary_key.begin(), o_.primary_key.end());
    for (const auto& k : o_.primary_key) key_match.push_back(fmt::format("t.{0} = s.{0}", QuoteIdent(k)));
    for (const auto& c : target_columns_) {
      names.push_back(QuoteIdent(c.name));
      values.push_back("s." + QuoteIdent(c.name));
      if (keys.count(c.name) == 0) assignments.push_back(fmt::format("{0} = s.{0}", QuoteIdent(c.name)));
    }
    std::vector<std::string> key_columns;
    for (const auto& k : o_.primary_key) key_columns.push_back(QuoteIdent(k));
    std::string keys_sql = Join(key_columns, ", ");
    SLUICE_TRY(
        client_->Execute(fmt::format("CREATE TEMP TABLE _sluice_latest ON COMMIT DROP AS SELECT DISTINCT ON ({0}) * "
                                     "FROM _sluice_stage ORDER BY {0}, "
                                     "_sluice_seq DESC",
                                     keys_sql)));
    std::string match = Join(key_match, " AND ");
    std::string upserted = "TRUE";
    if (has_change_type_ && o_.apply_deletes) {
      SLUICE_TRY(client_->Execute(fmt::format("DELETE FROM {} t USING _sluice_latest s WHERE {} AND s.{} = 'delete'",
                                              o_.Qualified(), match, QuoteIdent(kChangeType))));
      upserted = fmt::format("s.{} IS DISTINCT FROM 'delete'", QuoteIdent(kChangeType));
    }
    if (!assignments.empty()) {
      SLUICE_TRY(client_->Execute(fmt::format("UPDATE {} t SET {} FROM _sluice_latest s WHERE {} AND {}",
                                              o_.Qualified(), Join(assignments, ", "), match, upserted)));
    }
    return client_->Execute(
        fmt::format("INSERT INTO {0} ({1}) SELECT {2} FROM _sluice_latest s WHERE {3} AND NOT EXISTS (SELECT 1 FROM "
                    "{0} t WHERE {4})",
                    o_.Qualified(), Join(names, ", "), Join(values, ", "), upserted, match));
  }

  PgSinkOptions o_;
  std::unique_ptr<PgClient> client_;
  std::vector<pg_target::ExistingColumn> existing_;
  std::vector<PgTargetColumn> target_columns_;          // the job's columns as the target has them, in output order
  std::map<std::string, PgTargetColumn> copy_columns_;  // by name: what each COPY sends
  std::string copy_into_;
  bool prepared_ = false;
  bool has_change_type_ = false;
  bool fresh_in_transaction_ = false;  // what COPY writes into was created or truncated by this transaction
  bool target_replaced_ = false;       // the target table itself was created or truncated by this transaction
  bool committed_ = false;
  int64_t rows_ = 0, bytes_ = 0;
};

class PostgresSink final : public Sink {
 public:
  PostgresSink(PgSinkOptions options, SinkPlan plan) : o_(std::move(options)), plan_(std::move(plan)) {}
  const SinkPlan& plan() const override { return plan_; }

  Result<std::optional<LoadRecord>> LastLoad(const std::string& scope) override {
    SLUICE_ASSIGN_OR_RETURN(auto client, Connect(o_));
    SLUICE_ASSIGN_OR_RETURN(auto present,
                            client->QueryParams("SELECT to_regclass($1) IS NOT NULL AS present", {o_.Loads()}));
    if (present.Get(0, "present") != "t") return std::optional<LoadRecord>();
    SLUICE_ASSIGN_OR_RETURN(auto rows,
                            client->QueryParams(fmt::format("SELECT load_id, state_json, rows FROM {} WHERE scope = $1 "
                                                            "AND target_table = $2",
                                                            o_.Loads()),
                                                {scope, o_.table}));
    if (rows.rows.empty()) return std::optional<LoadRecord>();
    LoadRecord record;
    record.scope = scope;
    record.load_id = RunId{rows.Get(0, "load_id")};
    record.state_json = rows.Get(0, "state_json");
    record.rows = std::stoll(rows.Get(0, "rows"));
    return std::optional<LoadRecord>(std::move(record));
  }

  Result<std::unique_ptr<SinkWriter>> Open(const SinkRunContext& /*context*/) override {
    SLUICE_ASSIGN_OR_RETURN(auto client, Connect(o_));
    auto writer = std::make_unique<PostgresSinkWriter>(o_, std::move(client));
    SLUICE_TRY(writer->Begin().WithContext("preparing {} ({})", o_.Display(), o_.where));
    return std::unique_ptr<SinkWriter>(std::move(writer));
  }

 private:
  PgSinkOptions o_;
  SinkPlan plan_;
};

}  // namespace

SinkDescriptor PostgresSinkDescriptor() {
  SinkDescriptor d;
  d.name = "postgres";
  d.description =
      "A PostgreSQL table, written with binary COPY in one transaction per run: append, replace (the rows "
      "swapped in one transaction) or merge (upsert by the job's primary_key)";
  d.options = PgSinkOptionSpecs();

  d.bind = [](const SinkBindContext& context, const config::Value& options) -> Result<std::unique_ptr<Sink>> {
    SLUICE_ASSIGN_OR_RETURN(auto parsed, ParseOptions(context, options));
    SinkPlan plan;
    plan.sink = "postgres";
    plan.target =
        fmt::format("{}{}", context.connection_name.empty() ? "" : context.connection_name + ": ", parsed.Display());
    plan.description = fmt::format("{} {} in {} (PostgreSQL)", ToString(parsed.write), parsed.Display(),
                                   context.connection_name.empty() ? parsed.url : context.connection_name);
    plan.records_loads = true;
    return std::unique_ptr<Sink>(std::make_unique<PostgresSink>(std::move(parsed), std::move(plan)));
  };
  return d;
}

}  // namespace sluice::connectors
