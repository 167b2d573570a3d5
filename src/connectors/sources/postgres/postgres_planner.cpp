#include "connectors/sources/postgres/postgres_planner.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/strings.hpp"

namespace sluice::connectors::pg_source {

using postgres::PgClient;
using postgres::PgColumn;
using postgres::WireType;

const char* PgTypeOf(CursorKind kind) {
  switch (kind) {
    case CursorKind::kInteger: return "bigint";
    case CursorKind::kDate: return "date";
    case CursorKind::kTimestamp: return "timestamp";
    case CursorKind::kTimestampTz: return "timestamptz";
  }
  return "text";
}

std::optional<CursorKind> CursorKindOf(const PgColumn& column) {
  switch (column.wire) {
    case WireType::kInt2:
    case WireType::kInt4:
    case WireType::kInt8:
    case WireType::kOid: return CursorKind::kInteger;
    case WireType::kDate: return CursorKind::kDate;
    case WireType::kTimestamp: return CursorKind::kTimestamp;
    case WireType::kTimestampTz: return CursorKind::kTimestampTz;
    default: return std::nullopt;
  }
}

std::string StateJson(const SourceState& state) {
  if (state.window.start) return state.window.ToJson();
  nlohmann::json json = nlohmann::json::object();
  if (state.watermark) json["watermark"] = *state.watermark;
  json["cursor"] = state.cursor;
  return json.dump();
}

const PgColumn* FindColumn(const std::vector<PgColumn>& columns, std::string_view name) {
  for (const auto& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string ArrayText(const std::vector<engine::TextRow>& rows, size_t column) {
  std::string out = "{";
  for (size_t r = 0; r < rows.size(); ++r) {
    if (r > 0) out += ',';
    out += '"';
    for (char ch : rows[r][column].value_or("")) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  out += '}';
  return out;
}

Result<bool> KeyIsUnique(PgClient& pg, const std::string& schema, const std::string& table,
                         std::vector<std::string> key) {
  std::sort(key.begin(), key.end());
  std::vector<engine::TextRow> names;
  for (const auto& k : key) names.push_back({k});
  SLUICE_ASSIGN_OR_RETURN(
      auto found,
      pg.QueryParams(
          "SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = format('%I.%I', $1::text, $2::text)::regclass "
          "AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indnatts = i.indnkeyatts "
          "AND (SELECT array_agg(a.attname::text ORDER BY a.attname::text COLLATE \"C\") FROM pg_attribute a "
          "     WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) AND a.attnotnull) = $3::text[]) AS u",
          {schema, table, ArrayText(names, 0)}));
  return found.Get(0, "u") == "t";
}

namespace {

/// How far below the stored watermark a run starts reading, in the cursor's own units.
struct Lookback {
  int64_t amount = 0;  // integer cursors: a number; time cursors: microseconds
  std::string Describe(CursorKind kind) const {
    if (amount == 0) return "";
    if (kind == CursorKind::kInteger) return fmt::format(" - {}", amount);
    return fmt::format(" - {}s", static_cast<double>(amount) / 1e6);
  }
};

Result<Lookback> ParseLookback(const config::Value& value, CursorKind kind, const std::string& cursor) {
  Lookback lookback;
  if (value.IsNull()) return lookback;
  if (kind == CursorKind::kInteger) {
    auto amount = value.AsInt();
    if (!amount.ok()) {
      return Status::Invalid(
          "{}: lookback must be a whole number for the integer cursor column '{}' (e.g. lookback: 1000)",
          value.location().ToString(), cursor);
    }
    lookback.amount = *amount;
  } else {
    SLUICE_ASSIGN_OR_RETURN(auto duration, value.AsDuration());
    lookback.amount = duration.count();
  }
  if (lookback.amount < 0) {
    return Status::Invalid("{}: lookback must not be negative", value.location().ToString());
  }
  return lookback;
}

/// `watermark - lookback` as a typed PostgreSQL expression.
std::string LowerBoundSql(CursorKind kind, const std::string& watermark, const Lookback& lookback) {
  std::string literal = fmt::format("{}::{}", postgres::QuoteLiteral(watermark), PgTypeOf(kind));
  if (lookback.amount == 0) return literal;
  if (kind == CursorKind::kInteger) return fmt::format("({} - {})", literal, lookback.amount);
  return fmt::format("({} - '{} microseconds'::interval)", literal, lookback.amount);
}

Result<SourceState> ParseState(const std::string& state_json, const PostgresOptions& options) {
  SourceState state;
  if (state_json.empty() || state_json == "{}") return state;
  auto invalid = [&](const std::string& why) {
    return Status::DataError(
        "the stored state of job '{}' in pipeline '{}' is not valid JSON ({}); run it with --full-refresh to start "
        "over",
        options.job, options.pipeline, why);
  };
  try {
    auto json = nlohmann::json::parse(state_json);
    if (json.contains("watermark") && json["watermark"].is_string())
      state.watermark = json["watermark"].get<std::string>();
    if (json.contains("cursor") && json["cursor"].is_string()) state.cursor = json["cursor"].get<std::string>();
  } catch (const std::exception& e) {
    return invalid(e.what());
  }
  auto window = WindowState::Parse(state_json);
  if (!window.ok()) return invalid(window.status().message());
  state.window = std::move(*window);
  return state;
}

class Planner {
 public:
  explicit Planner(const PostgresOptions& options) : options_(options) {}

  Result<ReadPlan> Plan(const Checkpoint& checkpoint, const RunContext& context) const {
    ReadPlan setup;
    SLUICE_ASSIGN_OR_RETURN(setup.state, ParseState(checkpoint.state_json, options_));
    bool incremental = options_.mode == LoadMode::kIncremental;
    if (incremental && setup.state.watermark && !setup.state.cursor.empty() && setup.state.cursor != options_.cursor) {
      return Status::Invalid(
          "{}: job '{}' of pipeline '{}' stored its watermark for cursor column '{}', but the source now says cursor: "
          "{}; "
          "run `sluice run {} --full-refresh` once to reload the table from scratch with the new cursor",
          options_.location.ToString(), options_.job, options_.pipeline, setup.state.cursor, options_.cursor,
          options_.pipeline);
    }
    setup.state.cursor = options_.cursor;

    SLUICE_ASSIGN_OR_RETURN(setup.client, ConnectWithRetries());
    PgClient& pg = *setup.client;
    if (!context.snapshot.empty()) {
      SLUICE_TRY(pg.ImportSnapshot(context.snapshot));
      setup.snapshot = context.snapshot;
    }

    postgres::TypeMappingOptions types;
    types.cast_unsupported_to_text = options_.cast_unsupported_to_text;
    auto described = options_.is_table() ? postgres::DescribeTable(pg, options_.schema, options_.table, types)
                                         : postgres::DescribeQuery(pg, options_.query, types);
    if (!described.ok())
      return described.status().WithContext("{}: describing {}", options_.location.ToString(), options_.What());
    SLUICE_ASSIGN_OR_RETURN(setup.columns, SelectColumns(std::move(*described)));

    std::string where;
    std::string condition;
    if (incremental) {
      SLUICE_TRY(PlanIncremental(pg, &setup, &where, &condition));
    } else if (options_.mode == LoadMode::kWindow) {
      setup.window.run_id = context.run_id.value;
      SLUICE_TRY(PlanWindow(pg, &setup, &condition));
    } else {
      condition = "all rows";
      if (options_.mode == LoadMode::kFull && options_.is_table() && options_.resumable) {
        SLUICE_TRY(PlanChunks(pg, checkpoint, &setup));
      }
    }
    setup.read_sql = fmt::format("SELECT * FROM {}{}", options_.FromSql(), where);
    setup.stream_parts =
        context.single_scan && (options_.mode == LoadMode::kFull || options_.mode == LoadMode::kWindow);
    if (setup.stream_parts && options_.mode == LoadMode::kFull && options_.read_connections > 1 &&
        options_.is_table() && !setup.nothing_to_read) {
      SLUICE_TRY(PlanStreams(pg, &setup));
    }
    if (!setup.full.chunk_key.empty()) {
      condition = setup.full.resumed
                      ? fmt::format("rows with {} > {} (resuming an interrupted full load), in chunks of {}",
                                    setup.full.chunk_key, setup.full.chunk_after, setup.full.chunk_rows)
                      : fmt::format("all rows, in chunks of {} by {}", setup.full.chunk_rows, setup.full.chunk_key);
    }
    if (!setup.full.stream_clients.empty()) {
      condition += fmt::format(", read by {} connections side by side", setup.full.stream_clients.size() + 1);
    }

    std::string size_text;
    if (options_.is_table()) {
      auto size =
          pg.QueryParams("SELECT pg_total_relation_size(format('%I.%I', $1::text, $2::text)::regclass) AS bytes",
                         {options_.schema, options_.table});
      if (size.ok()) {
        setup.pending_bytes = std::strtoull(size->Get(0, "bytes").c_str(), nullptr, 10);
        size_text = fmt::format(" (≈ {})", HumanBytes(setup.pending_bytes));
      }
    }
    setup.summary = fmt::format("{}{}, {}", options_.What(), size_text,
                                setup.nothing_to_read ? fmt::format("nothing newer than {} {}", options_.cursor,
                                                                    setup.state.watermark.value_or(""))
                                                      : condition);
    return setup;
  }

 private:
  /// mode: incremental: the rows past the stored watermark (less the lookback), and whether there
  /// are any beyond the watermark itself.
  Status PlanIncremental(PgClient& pg, ReadPlan* setup, std::string* where, std::string* condition) const {
    const PgColumn* cursor = FindColumn(setup->columns, options_.cursor);
    if (cursor == nullptr) {
      return Status::Invalid("{}: cursor column '{}' is not among the columns read from {}{}",
                             options_.location.ToString(), options_.cursor, options_.What(),
                             Hint(options_.cursor, setup->columns));
    }
    setup->cursor_kind = CursorKindOf(*cursor);
    if (!setup->cursor_kind) {
      return Status::Invalid(
          "{}: cursor column '{}' of {} is {}; an incremental cursor must be a timestamp, timestamptz, date or "
          "integer column that grows when rows are added or changed",
          options_.location.ToString(), options_.cursor, options_.What(), cursor->type_name);
    }
    SLUICE_ASSIGN_OR_RETURN(auto lookback, ParseLookback(options_.lookback, *setup->cursor_kind, options_.cursor));
    std::string ident = postgres::QuoteIdent(options_.cursor);
    if (setup->state.watermark) {
      std::string watermark = LowerBoundSql(*setup->cursor_kind, *setup->state.watermark, {});
      *where =
          fmt::format(" WHERE {} > {}", ident, LowerBoundSql(*setup->cursor_kind, *setup->state.watermark, lookback));
      *condition = fmt::format("rows with {} > {}{}", options_.cursor, *setup->state.watermark,
                               lookback.Describe(*setup->cursor_kind));
      // Only rows beyond the watermark itself count as news; the lookback window is re-read
      // when there are some, so a quiet source reports "no changes" instead of re-loading it.
      SLUICE_ASSIGN_OR_RETURN(auto probe, pg.Query(fmt::format("SELECT EXISTS(SELECT 1 FROM {} WHERE {} > {}) AS newer",
                                                               options_.FromSql(), ident, watermark)));
      setup->nothing_to_read = probe.Get(0, "newer") != "t";
    } else {
      *condition = "all rows (first run)";
      SLUICE_ASSIGN_OR_RETURN(auto probe,
                              pg.Query(fmt::format("SELECT EXISTS(SELECT 1 FROM {}) AS any", options_.FromSql())));
      setup->nothing_to_read = probe.Get(0, "any") != "t";
    }
    return Status::OK();
  }

  /// mode: full of a table with an integer key: chunks in key order inside one REPEATABLE READ
  /// snapshot, starting past the key an interrupted earlier run of the same table and columns reached.
  Status PlanChunks(PgClient& pg, const Checkpoint& checkpoint, ReadPlan* setup) const {
    std::string key = options_.chunk_by;
    if (key.empty()) {
      SLUICE_ASSIGN_OR_RETURN(
          auto pk, pg.QueryParams("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                                  "AND a.attnum = ANY(i.indkey) WHERE i.indisprimary "
                                  "AND i.indrelid = format('%I.%I', $1::text, $2::text)::regclass",
                                  {options_.schema, options_.table}));
      const PgColumn* column = pk.rows.size() == 1 ? FindColumn(setup->columns, pk.Get(0, "attname")) : nullptr;
      if (column == nullptr || CursorKindOf(*column) != CursorKind::kInteger) {
        spdlog::info(
            "job '{}': {} has no single-column integer primary key among the columns read; an interrupted full "
            "load starts over (set chunk_by: to an integer NOT NULL column to make it resumable)",
            options_.job, options_.What());
        return Status::OK();
      }
      key = column->name;
    } else {
      const PgColumn* column = FindColumn(setup->columns, key);
      if (column == nullptr) {
        return Status::Invalid("{}: chunk_by column '{}' is not among the columns read from {}{}",
                               options_.location.ToString(), key, options_.What(), Hint(key, setup->columns));
      }
      if (CursorKindOf(*column) != CursorKind::kInteger || !column->not_null) {
        return Status::Invalid(
            "{}: chunk_by column '{}' of {} is {}{}; chunks need an integer NOT NULL column (or set "
            "resumable: false)",
            options_.location.ToString(), key, options_.What(), column->type_name,
            column->not_null ? "" : " and may be NULL");
      }
      // A chunk ends after a number of rows: rows sharing the last key beyond it would be skipped.
      SLUICE_ASSIGN_OR_RETURN(bool unique, KeyIsUnique(pg, options_.schema, options_.table, {key}));
      if (!unique) {
        return Status::Invalid(
            "{}: chunk_by column '{}' of {} has no unique index; chunks need a unique integer column "
            "(add a unique index, or set resumable: false)",
            options_.location.ToString(), key, options_.What());
      }
    }
    std::vector<std::string> signature;
    for (const auto& c : setup->columns) signature.push_back(c.name + " " + c.type_name);
    setup->full.chunk_key = key;
    setup->full.chunk_identity = fmt::format("{} by {}: {}", options_.What(), key, Join(signature, ", "));
    if (!checkpoint.resume_token.empty()) {
      auto token = nlohmann::json::parse(checkpoint.resume_token, nullptr, false);
      if (!token.is_discarded() && token.value("identity", "") == setup->full.chunk_identity &&
          token.contains("after")) {
        setup->full.chunk_after = token.value("after", "");
        setup->full.resumed = !setup->full.chunk_after.empty();
      } else {
        spdlog::warn(
            "job '{}': the interrupted full load of {} was read with other columns or another key; starting over",
            options_.job, options_.What());
      }
    }
    setup->full.chunk_rows = options_.batch_rows;
    // Every chunk of this run sees the same data; a resumed load spans two snapshots (documented).
    if (setup->snapshot.empty()) SLUICE_TRY(pg.Execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    return Status::OK();
  }

  /// mode: full, streamed: read_connections - 1 more connections in the snapshot of the first,
  /// reading consecutive ranges of the chunk key (ChunkRangeSqls; a chunk then holds batch_rows
  /// rows per connection) or, without chunks, of the table's physical blocks (a TID range scan
  /// each, PostgreSQL 14+).
  Status PlanStreams(PgClient& pg, ReadPlan* setup) const {
    int64_t n = options_.read_connections;
    std::string blocks_sql =
        "SELECT pg_relation_size(format('%I.%I', $1::text, $2::text)::regclass) / "
        "current_setting('block_size')::bigint AS b";
    int64_t blocks = 0;
    if (setup->full.chunk_key.empty()) {
      if (pg.server_version() < 140000) return Status::OK();  // no TID range scans: one connection reads
      SLUICE_ASSIGN_OR_RETURN(auto size, pg.QueryParams(blocks_sql, {options_.schema, options_.table}));
      blocks = std::strtoll(size.Get(0, "b").c_str(), nullptr, 10);
      if (blocks < n) return Status::OK();  // too small to be worth more connections
    }
    std::string snapshot = setup->snapshot;
    if (!snapshot.empty()) {
      // Reading in a snapshot given from outside: the other connections import the same one.
    } else if (setup->full.chunk_key.empty()) {
      SLUICE_ASSIGN_OR_RETURN(snapshot, pg.ExportSnapshot());
    } else {  // PlanChunks opened the snapshot's transaction already
      SLUICE_ASSIGN_OR_RETURN(auto exported, pg.Query("SELECT pg_export_snapshot() AS s"));
      snapshot = exported.Get(0, "s");
    }
    for (int64_t i = 1; i < n; ++i) {
      SLUICE_ASSIGN_OR_RETURN(auto client, ConnectWithRetries());
      SLUICE_TRY(client->ImportSnapshot(snapshot));
      setup->full.stream_clients.push_back(std::move(client));
    }
    if (!setup->full.chunk_key.empty()) {
      setup->full.chunk_rows = options_.batch_rows * n;  // each connection reads batch_rows rows of a chunk
      return Status::OK();
    }
    // Blocks appended after the size was read hold only rows this snapshot cannot see; the last
    // range is open-ended anyway.
    for (int64_t i = 0; i < n; ++i) {
      std::vector<std::string> range;
      if (i > 0) range.push_back(fmt::format("ctid >= '({},0)'::tid", blocks * i / n));
      if (i < n - 1) range.push_back(fmt::format("ctid < '({},0)'::tid", blocks * (i + 1) / n));
      setup->full.stream_sqls.push_back(fmt::format("{} WHERE {}", setup->read_sql, Join(range, " AND ")));
    }
    return Status::OK();
  }

  /// mode: window: the stored window (or the configured first one), whether it has closed, the
  /// next one, and one query per partition on connections sharing one exported snapshot.
  Status PlanWindow(PgClient& pg, ReadPlan* setup, std::string* condition) const {
    const auto& w = options_.window;
    const PgColumn* column = FindColumn(setup->columns, w.column);
    if (column == nullptr) {
      return Status::Invalid("{}: window column '{}' is not among the columns read from {}{}",
                             options_.location.ToString(), w.column, options_.What(), Hint(w.column, setup->columns));
    }
    auto kind = CursorKindOf(*column);
    if (!kind) {
      return Status::Invalid(
          "{}: window column '{}' of {} is {}; a window column must be a timestamp, timestamptz, date or "
          "integer column",
          options_.location.ToString(), w.column, options_.What(), column->type_name);
    }
    setup->window.start = setup->state.window.start.value_or(w.start);
    setup->window.stop = setup->state.window.start ? setup->state.window.stop.value_or(w.stop) : w.stop;
    std::string type = PgTypeOf(*kind);
    std::string start = fmt::format("{}::{}", postgres::QuoteLiteral(setup->window.start), type);
    std::string stop = fmt::format("{}::{}", postgres::QuoteLiteral(setup->window.stop), type);
    std::string step = *kind == CursorKind::kInteger ? fmt::format("{}::bigint", postgres::QuoteLiteral(w.step))
                                                     : fmt::format("{}::interval", postgres::QuoteLiteral(w.step));
    std::string closed = *kind == CursorKind::kInteger ? "true" : fmt::format("{} <= now()::{}", stop, type);
    auto plan = pg.Query(fmt::format("SELECT ({1} + {2})::{3}::text AS next_stop, {0} < {1} AS ordered, {4} AS closed",
                                     start, stop, step, type, closed));
    if (!plan.ok()) {
      return plan.status().WithContext("{}: window {} .. {} step {} of column '{}'", options_.location.ToString(),
                                       setup->window.start, setup->window.stop, w.step, w.column);
    }
    if (plan->Get(0, "ordered") != "t") {
      return Status::Invalid("{}: window start {} is not before stop {} (column '{}')", options_.location.ToString(),
                             setup->window.start, setup->window.stop, w.column);
    }
    // The next window starts where this one stops; a window still open is not read yet, so rows
    // that arrive later in it are never skipped.
    setup->window.next_start = setup->window.stop;
    setup->window.next_stop = plan->Get(0, "next_stop");
    *condition = fmt::format("window {} >= {} and < {}", w.column, setup->window.start, setup->window.stop);
    if (plan->Get(0, "closed") != "t") {
      setup->nothing_to_read = true;
      *condition += " (not over yet)";
      return Status::OK();
    }
    std::string window_where = fmt::format("{0} >= {1} AND {0} < {2}", postgres::QuoteIdent(w.column), start, stop);
    PartitionOptions partitions = options_.partitioning.value_or(PartitionOptions{});
    if (options_.partitioning && FindColumn(setup->columns, partitions.column) == nullptr) {
      return Status::Invalid("{}: partitioning column '{}' is not among the columns read from {}{}",
                             options_.location.ToString(), partitions.column, options_.What(),
                             Hint(partitions.column, setup->columns));
    }
    if (partitions.num_partitions > 1) {
      SLUICE_ASSIGN_OR_RETURN(auto snapshot, pg.ExportSnapshot());
      for (int64_t i = 1; i < partitions.num_partitions; ++i) {
        SLUICE_ASSIGN_OR_RETURN(auto client, ConnectWithRetries());
        SLUICE_TRY(client->ImportSnapshot(snapshot));
        setup->window.partition_clients.push_back(std::move(client));
      }
      *condition += fmt::format(", {} partitions of {} in one snapshot", partitions.num_partitions, partitions.column);
    }
    for (int64_t i = 0; i < partitions.num_partitions; ++i) {
      setup->window.partition_sqls.push_back(
          fmt::format("SELECT * FROM {} WHERE {} AND {}", options_.FromSql(), window_where, partitions.Condition(i)));
    }
    return Status::OK();
  }

  /// Connects, retrying failures PostgreSQL marks as transient (refused, too many connections,
  /// starting up) up to connect_retries times with a growing pause.
  Result<std::unique_ptr<PgClient>> ConnectWithRetries() const {
    for (int64_t attempt = 0;; ++attempt) {
      auto client = PgClient::Connect(options_.url, options_.password, options_.connect);
      if (client.ok()) return std::move(*client);
      Status st = client.status();
      if (!options_.connection.empty()) st = st.WithContext("connection '{}'", options_.connection);
      if (!st.retryable() || attempt >= options_.connect_retries) {
        if (attempt > 0) st = st.WithContext("after {} attempts", attempt + 1);
        return st;
      }
      spdlog::warn("job '{}': connecting to PostgreSQL failed ({}); retry {} of {}", options_.job, st.message(),
                   attempt + 1, options_.connect_retries);
      std::this_thread::sleep_for(std::chrono::milliseconds(500) * (1 << std::min<int64_t>(attempt, 4)));
    }
  }

  static std::string Hint(const std::string& name, const std::vector<PgColumn>& columns) {
    std::vector<std::string> names;
    for (const auto& c : columns) names.push_back(c.name);
    std::string nearest = NearestWord(name, names);
    if (!nearest.empty()) return fmt::format(" (did you mean '{}'?)", nearest);
    return fmt::format("; its columns are {}", Join(names, ", "));
  }

  /// The described columns narrowed to `columns:` (in the order given there), or all of them.
  Result<std::vector<PgColumn>> SelectColumns(std::vector<PgColumn> described) const {
    if (options_.columns.empty()) return described;
    std::vector<PgColumn> selected;
    for (const auto& name : options_.columns) {
      const PgColumn* column = FindColumn(described, name);
      if (column == nullptr) {
        return Status::Invalid("{}: columns: names '{}', which {} does not have{}", options_.location.ToString(), name,
                               options_.What(), Hint(name, described));
      }
      if (FindColumn(selected, name) != nullptr) {
        return Status::Invalid("{}: columns: names '{}' twice", options_.location.ToString(), name);
      }
      selected.push_back(*column);
    }
    return selected;
  }

  const PostgresOptions& options_;
};

}  // namespace

Result<ReadPlan> PlanRead(const PostgresOptions& options, const Checkpoint& checkpoint, const RunContext& context) {
  return Planner(options).Plan(checkpoint, context);
}

}  // namespace sluice::connectors::pg_source
