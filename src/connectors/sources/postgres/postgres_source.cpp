#include "connectors/sources/postgres/postgres_source.hpp"
#include "connectors/sources/postgres/cdc_source.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

#include "common/strings.hpp"
#include "connectors/postgres/pg_client.hpp"
#include "connectors/postgres/pg_connection_settings.hpp"
#include "connectors/postgres/pg_copy_reader.hpp"
#include "connectors/postgres/pg_types.hpp"
#include "connectors/window_state.hpp"

namespace sluice::connectors {
namespace {

using postgres::PgClient;
using postgres::PgColumn;
using postgres::WireType;

constexpr int64_t kDefaultBatchRows = 500'000;

/// kChanges reads every row like kFull; the pipeline's change detection keeps only what changed.
enum class LoadMode { kFull, kIncremental, kChanges, kWindow };

/// What the cursor column holds decides how the watermark is compared and how lookback applies.
enum class CursorKind { kInteger, kDate, kTimestamp, kTimestampTz };

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

struct PostgresOptions {
  std::string url;
  std::optional<Secret> password;
  std::string schema, table;  // table form
  std::string query;          // query form
  std::vector<std::string> columns;
  std::string cursor;
  config::Value lookback;  // null when absent; read once the cursor's type is known
  config::Location location;
  int64_t batch_rows = kDefaultBatchRows;
  int64_t connect_retries = 2;
  bool cast_unsupported_to_text = false;
  bool server_side_hash = true;  // mode: changes: hash rows in PostgreSQL, transfer only the changed ones
  int64_t read_connections = 2;  // mode: full of a table: connections reading it side by side
  bool resumable = true;  // mode: full of a table: read in key-ordered chunks an interrupted load resumes from
  std::string chunk_by;   // "" = the table's single-column integer primary key
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

/// The PostgreSQL type a watermark literal is cast to.
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
      return Status::Invalid("{}: lookback must be a whole number for the integer cursor column '{}' (e.g. lookback: 1000)",
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

struct SourceState {
  std::optional<std::string> watermark;
  std::string cursor;
  WindowState window;  // mode: window: the window the next run reads, and the windows read so far
};

constexpr size_t kWindowHistoryKept = 200;

Result<SourceState> ParseState(const std::string& state_json, const PostgresOptions& options) {
  SourceState state;
  if (state_json.empty() || state_json == "{}") return state;
  auto invalid = [&](const std::string& why) {
    return Status::DataError(
        "the stored state of job '{}' in pipeline '{}' is not valid JSON ({}); run it with --full-refresh to start over",
        options.job, options.pipeline, why);
  };
  try {
    auto json = nlohmann::json::parse(state_json);
    if (json.contains("watermark") && json["watermark"].is_string()) state.watermark = json["watermark"].get<std::string>();
    if (json.contains("cursor") && json["cursor"].is_string()) state.cursor = json["cursor"].get<std::string>();
  } catch (const std::exception& e) {
    return invalid(e.what());
  }
  auto window = WindowState::Parse(state_json);
  if (!window.ok()) return invalid(window.status().message());
  state.window = std::move(*window);
  return state;
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

/// mode: changes on the server: the kind of hash recorded with the change index.
constexpr const char* kServerRowHashKind = "postgres:hash_record_extended";
/// Keys per query when fetching changed rows (the array literal stays a few MB at most).
constexpr int64_t kKeysPerFetch = 50'000;

/// Whether `column` can be a key that changed rows are fetched by: its DuckDB text form must
/// read back as the same PostgreSQL value.
bool FetchableKey(const PgColumn& column) {
  if (column.cast_to_text) return false;
  switch (column.wire) {
    case WireType::kInt2:
    case WireType::kInt4:
    case WireType::kInt8:
    case WireType::kNumeric:
    case WireType::kText:
    case WireType::kUuid:
    case WireType::kDate:
    case WireType::kTimestamp:
    case WireType::kTimestampTz: return true;
    default: return false;
  }
}

/// `hash_record_extended(ROW(...), 0)` over the compared columns in name order. Built-in types
/// with an extended hash function are hashed as they are (no text conversion on the server);
/// others (json, xml, arrays, domains, types read as text) through their text form.
std::string ServerRowHashSql(const std::vector<PgColumn>& columns, const RowHashRequest& request) {
  // bool int2 int4 int8 oid float4 float8 numeric text varchar bpchar name char date time
  // timestamp timestamptz interval uuid jsonb bytea
  static const std::set<uint32_t> kHashable = {16,   21,   23,   20,   26,   700,  701,  1700, 25,   1043, 1042,
                                               19,   18,   1082, 1083, 1114, 1184, 1186, 2950, 3802, 17};
  auto listed = [](const std::vector<std::string>& list, const std::string& name) {
    return std::find(list.begin(), list.end(), name) != list.end();
  };
  std::vector<const PgColumn*> compared;
  for (const auto& c : columns) {
    if (!listed(request.key, c.name) && !listed(request.ignore, c.name)) compared.push_back(&c);
  }
  std::sort(compared.begin(), compared.end(), [](const auto* a, const auto* b) { return a->name < b->name; });
  if (compared.empty()) return "0::bigint";
  std::vector<std::string> fields;
  for (const auto* c : compared) {
    bool as_is = !c->cast_to_text && kHashable.count(c->type_oid) > 0;
    fields.push_back(postgres::QuoteIdent(c->name) + (as_is ? "" : "::text"));
  }
  return fmt::format("hash_record_extended(ROW({}), 0)", Join(fields, ", "));
}

/// The text of a PostgreSQL array ({"a","b\\c"}) of column `column` of `rows`.
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

/// The same as a quoted literal, to cast in SQL.
std::string ArrayLiteral(const std::vector<engine::TextRow>& rows, size_t column) {
  return postgres::QuoteLiteral(ArrayText(rows, column));
}

/// Whether a table's primary key or a unique index over NOT NULL columns is exactly `key`.
Result<bool> KeyIsUnique(PgClient& pg, const std::string& schema, const std::string& table, std::vector<std::string> key) {
  std::sort(key.begin(), key.end());
  std::vector<engine::TextRow> names;
  for (const auto& k : key) names.push_back({k});
  SLUICE_ASSIGN_OR_RETURN(
      auto found, pg.QueryParams(
                      "SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = format('%I.%I', $1::text, $2::text)::regclass "
                      "AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indnatts = i.indnkeyatts "
                      "AND (SELECT array_agg(a.attname::text ORDER BY a.attname::text COLLATE \"C\") FROM pg_attribute a "
                      "     WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) AND a.attnotnull) = $3::text[]) AS u",
                      {schema, table, ArrayText(names, 0)}));
  return found.Get(0, "u") == "t";
}

class PostgresReader final : public SourceReader {
 public:
  struct Setup {
    std::unique_ptr<PgClient> client;
    std::vector<PgColumn> columns;
    std::string read_sql;
    std::string snapshot;  // RunContext::snapshot: every connection reads in it (its transaction is open)
    bool nothing_to_read = false;
    uint64_t pending_bytes = 0;
    std::string summary;
    std::optional<CursorKind> cursor_kind;  // incremental only
    SourceState state;
    // mode: window: one query per partition, each on its own connection (clients[0] = client),
    // all inside the snapshot the first one exported; the window this run reads and the next one.
    std::vector<std::string> partition_sqls;
    std::vector<std::unique_ptr<PgClient>> partition_clients;
    std::string window_start, window_stop, next_start, next_stop, run_id;
    // mode: full in chunks: the integer key the chunks are ranges of, the last key read so far
    // ("" before the first chunk), what the resume token must match, and whether this run resumes.
    std::string chunk_key, chunk_after, chunk_identity;
    bool resumed = false;
    int64_t chunk_rows = 0;  // batch_rows, per connection when streamed over several
    // mode: full or window read once by the pipeline (RunContext::single_scan): each part is a
    // RowStream that DuckDB reads while it writes the part, with no table in between.
    bool stream_parts = false;
    // mode: full, read side by side by stream_clients (with `client`) in the snapshot it exported: the whole
    // table by ranges of physical blocks (stream_sqls), or each chunk by ranges of the chunk key.
    std::vector<std::unique_ptr<PgClient>> stream_clients;
    std::vector<std::string> stream_sqls;
  };

  PostgresReader(PostgresOptions options, Setup setup) : options_(std::move(options)), s_(std::move(setup)) {}

  std::string PendingSummary() const override { return s_.summary; }
  bool NothingToRead() const override { return s_.nothing_to_read; }
  uint64_t PendingBytes() const override { return s_.pending_bytes; }

  Result<ReadState> Read(engine::Connection& connection, const std::string& relation) override {
    if (!changed_keys_.empty()) return ReadChangedRows(connection, relation);
    if (s_.stream_parts) return StreamPart(connection, relation);
    if (!s_.partition_sqls.empty()) return ReadPartitions(connection, relation);
    if (!s_.chunk_key.empty()) return ReadChunk(connection, relation);
    if (copy_ == nullptr) {
      postgres::CopyReaderOptions copy;
      copy.query = s_.read_sql;
      copy.columns = s_.columns;
      copy.table = relation;
      copy.temporary = true;
      auto started = postgres::PgCopyReader::Start(*s_.client, connection, std::move(copy));
      if (!started.ok()) return started.status().WithContext("reading {} from PostgreSQL", options_.What());
      copy_ = std::move(*started);
    } else if (copy_->table() != relation) {
      return Status::Internal("postgres source: Read() was asked for relation '{}' after '{}'; a run reads into one",
                              relation, copy_->table());
    }
    auto more = copy_->ReadBatch(static_cast<size_t>(options_.batch_rows));
    if (!more.ok()) {
      return more.status().WithContext("reading {} from PostgreSQL {} (row {})", options_.What(),
                                       s_.client->endpoint(), copy_->rows() + 1);
    }
    if (s_.cursor_kind && copy_->batch_rows() > 0) SLUICE_TRY(AdvanceWatermark(connection, relation));
    spdlog::debug("postgres source of job '{}': batch of {} rows ({} so far, {} bytes)", options_.job,
                  copy_->batch_rows(), copy_->rows(), copy_->bytes());
    return *more ? ReadState::kHaveMore : ReadState::kFinished;
  }

  std::string RejectsRelation() const override { return ""; }

  Result<ReadState> PartConsumed(Status consumed) override {
    if (stream_ == nullptr) return SourceReader::PartConsumed(std::move(consumed));
    Status read = stream_->error();
    if (read.ok() && consumed.ok() && !stream_->finished()) {
      read = Status::Internal("the pipeline stopped reading the rows of {} before their end", options_.What());
    }
    uint64_t rows = stream_->rows();
    // The ranges are consecutive: the chunk's keys run from the first one the first non-empty
    // range read to the last one the last non-empty range read.
    std::optional<int64_t> first_key, last_key;
    uint64_t bytes = 0;
    size_t connections = streamed_copies_.size();
    bool last_range_full = !streamed_copies_.empty() &&
                           streamed_copies_.back()->rows() >= static_cast<uint64_t>(last_range_limit_);
    for (const auto* copy : streamed_copies_) {
      if (!first_key) first_key = copy->first_value();
      if (copy->last_value()) last_key = copy->last_value();
      bytes += copy->bytes();
    }
    streamed_copies_.clear();
    stream_.reset();
    if (!read.ok()) {
      return read.WithContext("reading {} from PostgreSQL {}{}", options_.What(), s_.client->endpoint(),
                              connections > 1 ? fmt::format(" over {} connections, each counting its own rows", connections) : "");
    }
    SLUICE_TRY(consumed);
    streamed_rows_ += rows;
    spdlog::debug("postgres source of job '{}': streamed {} rows ({}, {} so far)", options_.job, rows, HumanBytes(bytes),
                  streamed_rows_);
    // Only the last range is cut short by a LIMIT: when it is not full, every row has been read.
    if (s_.chunk_key.empty() || !last_range_full || !last_key) return ReadState::kFinished;
    s_.chunk_after = std::to_string(*last_key);
    if (first_key && rows > 1) keys_per_row_ = static_cast<double>(*last_key - *first_key) / static_cast<double>(rows - 1);
    // A table of an exact multiple of batch_rows would otherwise end with a chunk of no rows.
    SLUICE_ASSIGN_OR_RETURN(auto rest, s_.client->Query(fmt::format("SELECT EXISTS (SELECT 1 FROM {} WHERE {} > {}::bigint) AS more",
                                                                     options_.FromSql(), postgres::QuoteIdent(s_.chunk_key),
                                                                     postgres::QuoteLiteral(s_.chunk_after))));
    return rest.Get(0, "more") == "t" ? ReadState::kHaveMore : ReadState::kFinished;
  }

  std::string ResumeToken() const override {
    if (s_.chunk_key.empty() || s_.chunk_after.empty()) return "";
    return nlohmann::json{{"identity", s_.chunk_identity}, {"after", s_.chunk_after}}.dump();
  }

  bool Resuming() const override { return s_.resumed; }

  Result<SourceRowHashing> StartRowHashing(const RowHashRequest& request) override {
    SourceRowHashing hashing;
    if (options_.mode != LoadMode::kChanges || !options_.server_side_hash) return hashing;
    std::vector<std::string> why_not;
    if (s_.client->server_version() < 140000) why_not.push_back("the server is older than PostgreSQL 14");
    key_columns_.clear();
    for (const auto& k : request.key) {
      const PgColumn* column = FindColumn(s_.columns, k);
      if (column == nullptr) return hashing;  // the change detector names the missing key
      if (!FetchableKey(*column)) why_not.push_back(fmt::format("key column '{}' is {}", k, column->type_name));
      key_columns_.push_back(*column);
    }
    if (!why_not.empty()) {
      spdlog::info("job '{}': rows are hashed by sluice, not by PostgreSQL, because {} (every row is transferred)",
                   options_.job, Join(why_not, " and "));
      return hashing;
    }
    row_hash_sql_ = ServerRowHashSql(s_.columns, request);
    s_.read_sql = fmt::format("SELECT *, {} AS {} FROM {}", row_hash_sql_, kSourceRowHashColumn, options_.FromSql());
    s_.columns.push_back(RowHashColumn());
    // The keys and the rows fetched by key afterwards come from one snapshot.
    SLUICE_TRY(s_.client->Execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    hashing.kind = kServerRowHashKind;
    if (options_.is_table()) {
      SLUICE_ASSIGN_OR_RETURN(hashing.unique_keys, KeyIsUnique(*s_.client, options_.schema, options_.table, request.key));
    }
    return hashing;
  }

  Status ReadKeyHashes(engine::Connection& connection, const std::string& relation) override {
    std::vector<std::string> keys;
    for (const auto& k : key_columns_) keys.push_back(postgres::QuoteIdent(k.name));
    std::vector<PgColumn> columns = key_columns_;
    columns.push_back(RowHashColumn());
    // Key and hash are 16 bytes or so a row: cheap to pass from parallel workers, so let the
    // server hash with its parallel workers where its cost model sees a gain (large tables).
    SLUICE_TRY(s_.client->Execute("SET LOCAL parallel_tuple_cost = 0.001"));
    Status copied = CopyAll(connection, relation,
                            fmt::format("SELECT {}, {} AS {} FROM {}", Join(keys, ", "), row_hash_sql_,
                                        kSourceRowHashColumn, options_.FromSql()),
                            std::move(columns), 1 << 20);
    if (!copied.ok()) {
      return copied.WithContext("reading the row hashes of {} from PostgreSQL {}", options_.What(), s_.client->endpoint());
    }
    spdlog::debug("postgres source of job '{}': {} keys with their row hashes ({} bytes)", options_.job, copy_->rows(),
                  copy_->bytes());
    copy_.reset();
    return s_.client->Execute("SET LOCAL parallel_tuple_cost TO DEFAULT");
  }

  Status RestrictToKeys(engine::Connection& connection, const std::string& keys) override {
    std::vector<std::string> as_text;
    for (const auto& k : key_columns_) {
      as_text.push_back(fmt::format("CAST({0} AS VARCHAR) AS {0}", SqlIdent(k.name)));
    }
    changed_keys_ = keys + "_numbered";
    SLUICE_TRY(connection.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS SELECT row_number() OVER () AS _n, {} FROM {}",
                                              SqlIdent(changed_keys_), Join(as_text, ", "), SqlIdent(keys))));
    SLUICE_ASSIGN_OR_RETURN(auto count, connection.Query("SELECT count(*) AS n FROM " + SqlIdent(changed_keys_)));
    changed_key_count_ = count.GetInt(0, "n");
    fetched_keys_ = 0;
    return Status::OK();
  }

  std::optional<WindowBounds> WindowRead() const override {
    if (options_.mode != LoadMode::kWindow || s_.nothing_to_read) return std::nullopt;
    return WindowBounds{options_.window.column, s_.window_start, s_.window_stop};
  }

  Checkpoint NewCheckpoint() const override {
    Checkpoint checkpoint;
    if (options_.mode == LoadMode::kIncremental) checkpoint.state_json = StateJson(s_.state);
    if (options_.mode == LoadMode::kWindow) {
      // The window moves on only through the commit that publishes its rows.
      SourceState next = s_.state;
      next.window.start = s_.next_start;
      next.window.stop = s_.next_stop;
      uint64_t rows = streamed_rows_;
      for (const auto& p : partitions_) rows += p->rows();
      auto history = nlohmann::json::parse(s_.state.window.history_json, nullptr, false);
      if (!history.is_array()) history = nlohmann::json::array();
      history.push_back({{"start", s_.window_start}, {"stop", s_.window_stop}, {"rows", rows},
                         {"partitions", s_.partition_sqls.size()}, {"run_id", s_.run_id}});
      while (history.size() > kWindowHistoryKept) history.erase(history.begin());
      next.window.history_json = history.dump();
      checkpoint.state_json = StateJson(next);
    }
    return checkpoint;
  }

 private:
  static PgColumn RowHashColumn() {
    PgColumn hash;
    hash.name = kSourceRowHashColumn;
    hash.type_oid = 20;
    hash.type_name = "bigint";
    hash.wire = WireType::kInt8;
    hash.target = engine::AppendColumn{hash.name, engine::ColumnKind::kInt64};
    return hash;
  }

  /// Copies every row of `query` (`columns`) into `relation`, through copy_, in batches of
  /// `expected_rows` + 1: a query that returns at most `expected_rows` ends in the first batch.
  Status CopyAll(engine::Connection& connection, const std::string& relation, std::string query,
                 std::vector<PgColumn> columns, int64_t expected_rows) {
    postgres::CopyReaderOptions copy;
    copy.query = std::move(query);
    copy.columns = std::move(columns);
    copy.table = relation;
    copy.temporary = true;
    copy.keep_previous_batches = true;  // a source key delivered twice adds rows; the change detector names it
    copy_.reset();
    SLUICE_ASSIGN_OR_RETURN(copy_, postgres::PgCopyReader::Start(*s_.client, connection, std::move(copy)));
    for (bool more = true; more;) {
      SLUICE_ASSIGN_OR_RETURN(more, copy_->ReadBatch(static_cast<size_t>(expected_rows) + 1));
    }
    return Status::OK();
  }

  /// After RestrictToKeys: each Read() fetches the rows of the next kKeysPerFetch changed keys
  /// (all of them in the snapshot the keys were read in).
  Result<ReadState> ReadChangedRows(engine::Connection& connection, const std::string& relation) {
    int64_t per_fetch = std::min<int64_t>(options_.batch_rows, kKeysPerFetch);
    std::vector<std::string> names;
    for (const auto& k : key_columns_) names.push_back(SqlIdent(k.name));
    SLUICE_ASSIGN_OR_RETURN(auto batch, connection.Query(fmt::format("SELECT {} FROM {} WHERE _n > {} AND _n <= {} ORDER BY _n",
                                                                     Join(names, ", "), SqlIdent(changed_keys_),
                                                                     fetched_keys_, fetched_keys_ + per_fetch)));
    std::string where = "false";  // no changed keys: an empty part that still has the columns
    if (!batch.rows.empty() && key_columns_.size() == 1) {
      const auto& key = key_columns_[0];
      where = fmt::format("{} = ANY({}::{}[])", postgres::QuoteIdent(key.name), ArrayLiteral(batch.rows, 0), key.type_name);
    } else if (!batch.rows.empty()) {
      std::vector<std::string> keys, arrays;
      for (size_t i = 0; i < key_columns_.size(); ++i) {
        keys.push_back(postgres::QuoteIdent(key_columns_[i].name));
        arrays.push_back(fmt::format("{}::{}[]", ArrayLiteral(batch.rows, i), key_columns_[i].type_name));
      }
      where = fmt::format("({}) IN (SELECT * FROM unnest({}))", Join(keys, ", "), Join(arrays, ", "));
    }
    Status copied = CopyAll(connection, relation, fmt::format("{} WHERE {}", s_.read_sql, where), s_.columns, per_fetch);
    if (!copied.ok()) {
      return copied.WithContext("reading the changed rows of {} from PostgreSQL {}", options_.What(), s_.client->endpoint());
    }
    fetched_keys_ += static_cast<int64_t>(batch.rows.size());
    spdlog::debug("postgres source of job '{}': {} changed rows fetched by key ({} of {} keys)", options_.job,
                  copy_->rows(), fetched_keys_, changed_key_count_);
    return fetched_keys_ < changed_key_count_ ? ReadState::kHaveMore : ReadState::kFinished;
  }

  /// mode: full in chunks: the next batch_rows rows in key order past the last key read.
  std::string NextChunkSql() const {
    std::string key = postgres::QuoteIdent(s_.chunk_key);
    std::string past = s_.chunk_after.empty()
                           ? ""
                           : fmt::format(" WHERE {} > {}::bigint", key, postgres::QuoteLiteral(s_.chunk_after));
    return fmt::format("SELECT * FROM {}{} ORDER BY {} LIMIT {}", options_.FromSql(), past, key, s_.chunk_rows);
  }

  /// mode: full read once by the pipeline: the whole table, or the next chunk, as a RowStream
  /// decoded while DuckDB writes it, split over the stream clients. PartConsumed() then tells
  /// whether more chunks follow.
  Result<ReadState> StreamPart(engine::Connection& connection, const std::string& relation) {
    // mode: window reads its partitions side by side, each on its own connection.
    bool window = !s_.partition_sqls.empty();
    std::vector<std::string> queries = window ? s_.partition_sqls : s_.stream_sqls;
    const auto& more_clients = window ? s_.partition_clients : s_.stream_clients;
    if (queries.empty()) queries = {s_.read_sql};
    if (!s_.chunk_key.empty()) {
      SLUICE_ASSIGN_OR_RETURN(queries, ChunkRangeSqls());
    }
    std::vector<std::unique_ptr<engine::RowProducer>> producers;
    streamed_copies_.clear();
    for (size_t i = 0; i < queries.size(); ++i) {
      postgres::CopyReaderOptions copy;
      copy.query = queries[i];
      copy.columns = s_.columns;
      copy.last_value_column = s_.chunk_key;
      PgClient& client = i == 0 ? *s_.client : *more_clients[i - 1];
      auto started = postgres::PgCopyReader::StartStream(client, std::move(copy));
      if (!started.ok()) {
        streamed_copies_.clear();
        return started.status().WithContext("reading {} from PostgreSQL", options_.What());
      }
      streamed_copies_.push_back(started->get());
      producers.push_back(std::move(*started));
    }
    auto stream = engine::RowStream::Create(connection, relation, postgres::TargetColumns(s_.columns), std::move(producers));
    if (!stream.ok()) {
      streamed_copies_.clear();
      return stream.status();
    }
    stream_ = std::move(*stream);
    return s_.chunk_key.empty() ? ReadState::kFinished : ReadState::kHaveMore;
  }

  /// The next chunk as consecutive key ranges, one per stream client. The boundaries are the keys
  /// every batch_rows rows past the last key read, estimated from the keys per row: the
  /// table's (EstimateKeySpacing) for the first chunk, then the previous chunk's; an index-only
  /// walk finds them when the table has no row count yet. An
  /// estimate only changes how many rows a chunk gets, never which rows are read: the ranges
  /// are consecutive and only the last one stops after a number of rows (last_range_limit_).
  Result<std::vector<std::string>> ChunkRangeSqls() {
    size_t n = 1 + s_.stream_clients.size();
    int64_t step = s_.chunk_rows / static_cast<int64_t>(n);
    last_range_limit_ = s_.chunk_rows;
    if (n == 1 || step == 0) return std::vector<std::string>{NextChunkSql()};
    std::string key = postgres::QuoteIdent(s_.chunk_key);
    std::string table = options_.FromSql();
    std::string lower = s_.chunk_after.empty() ? "" : fmt::format("{} > {}::bigint", key, postgres::QuoteLiteral(s_.chunk_after));
    std::vector<std::string> bounds;
    if (keys_per_row_ <= 0 && !key_floor_) SLUICE_TRY(EstimateKeySpacing());
    if (keys_per_row_ > 0 && (!s_.chunk_after.empty() || key_floor_)) {
      double after = s_.chunk_after.empty() ? *key_floor_ : std::strtod(s_.chunk_after.c_str(), nullptr);
      for (size_t i = 1; i < n; ++i) {
        double bound = std::floor(after + keys_per_row_ * static_cast<double>(step) * static_cast<double>(i));
        if (bound >= 9.0e18) break;  // past any bigint: the remaining ranges are one
        if (!bounds.empty() && bound <= std::strtod(bounds.back().c_str(), nullptr)) continue;
        if (bound <= after) continue;
        bounds.push_back(fmt::format("{}", static_cast<int64_t>(bound)));
      }
    }
    for (size_t i = 1; i < n && keys_per_row_ <= 0; ++i) {
      SLUICE_ASSIGN_OR_RETURN(
          auto found, s_.client->Query(fmt::format("SELECT {0}::text AS k FROM {1}{2} ORDER BY {0} OFFSET {3} LIMIT 1", key,
                                                   table, lower.empty() ? "" : " WHERE " + lower,
                                                   static_cast<int64_t>(i) * step - 1)));
      if (found.rows.empty()) break;
      bounds.push_back(found.Get(0, "k"));
    }
    if (bounds.empty()) return std::vector<std::string>{NextChunkSql()};
    std::vector<std::string> queries;
    std::string from = lower;
    for (const auto& bound : bounds) {
      std::string upto = fmt::format("{} <= {}::bigint", key, postgres::QuoteLiteral(bound));
      queries.push_back(fmt::format("SELECT * FROM {} WHERE {}{} ORDER BY {}", table, from.empty() ? "" : from + " AND ",
                                    upto, key));
      from = fmt::format("{} > {}::bigint", key, postgres::QuoteLiteral(bound));
    }
    last_range_limit_ = s_.chunk_rows - static_cast<int64_t>(bounds.size()) * step;
    queries.push_back(fmt::format("SELECT * FROM {} WHERE {} ORDER BY {} LIMIT {}", table, from, key, last_range_limit_));
    return queries;
  }

  /// Before the first chunk: the table's key spacing from its smallest and largest key (both from
  /// the index) and the planner's row count, when PostgreSQL has one (the table was analyzed).
  Status EstimateKeySpacing() {
    std::string key = postgres::QuoteIdent(s_.chunk_key);
    SLUICE_ASSIGN_OR_RETURN(
        auto extent, s_.client->QueryParams(fmt::format("SELECT min({0})::text AS lo, max({0})::text AS hi, (SELECT c.reltuples "
                                                        "FROM pg_class c WHERE c.oid = format('%I.%I', $1::text, $2::text)"
                                                        "::regclass)::bigint AS n FROM {1}",
                                                        key, options_.FromSql()),
                                            {options_.schema, options_.table}));
    double lo = std::strtod(extent.Get(0, "lo").c_str(), nullptr);
    double hi = std::strtod(extent.Get(0, "hi").c_str(), nullptr);
    double rows = std::strtod(extent.Get(0, "n").c_str(), nullptr);
    key_floor_ = lo - 1;
    if (rows >= 2 && hi > lo) keys_per_row_ = (hi - lo) / (rows - 1);
    return Status::OK();
  }

  /// mode: full in chunks: each Read() copies the next batch_rows rows in key order past the last
  /// key read, so a later run can carry on from any chunk boundary (ResumeToken).
  Result<ReadState> ReadChunk(engine::Connection& connection, const std::string& relation) {
    Status copied = CopyAll(connection, relation, NextChunkSql(), s_.columns, s_.chunk_rows);
    if (!copied.ok()) {
      return copied.WithContext("reading {} from PostgreSQL {} ({} > {})", options_.What(), s_.client->endpoint(),
                                s_.chunk_key, s_.chunk_after.empty() ? "start" : s_.chunk_after);
    }
    chunk_rows_ += copy_->rows();
    spdlog::debug("postgres source of job '{}': chunk of {} rows after {} = '{}' ({} so far)", options_.job,
                  copy_->rows(), s_.chunk_key, s_.chunk_after, chunk_rows_);
    if (copy_->rows() < static_cast<uint64_t>(s_.chunk_rows)) return ReadState::kFinished;
    SLUICE_ASSIGN_OR_RETURN(auto last, connection.Query(fmt::format("SELECT CAST(max({}) AS VARCHAR) AS k FROM {}",
                                                                    SqlIdent(s_.chunk_key), SqlIdent(relation))));
    s_.chunk_after = last.Get(0, "k");
    return ReadState::kHaveMore;
  }

  /// mode: window: one COPY per partition runs concurrently on its own connection; each Read()
  /// takes the next batch of every partition still going and shows them as one relation.
  Result<ReadState> ReadPartitions(engine::Connection& connection, const std::string& relation) {
    size_t n = s_.partition_sqls.size();
    if (partitions_.empty()) {
      for (size_t i = 0; i < n; ++i) {
        postgres::CopyReaderOptions copy;
        copy.query = s_.partition_sqls[i];
        copy.columns = s_.columns;
        copy.table = fmt::format("{}_partition_{}", relation, i);
        copy.temporary = true;
        PgClient& client = i == 0 ? *s_.client : *s_.partition_clients[i - 1];
        auto started = postgres::PgCopyReader::Start(client, connection, std::move(copy));
        if (!started.ok()) return started.status().WithContext("reading partition {} of {} of {}", i + 1, n, options_.What());
        partitions_.push_back(std::move(*started));
      }
      partition_done_.assign(n, false);
    }
    size_t per_partition = static_cast<size_t>(std::max<int64_t>(1, options_.batch_rows / static_cast<int64_t>(n)));
    std::vector<std::string> parts;
    for (size_t i = 0; i < n; ++i) {
      if (partition_done_[i]) continue;
      auto more = partitions_[i]->ReadBatch(per_partition);
      if (!more.ok()) {
        return more.status().WithContext("reading partition {} of {} of {} from PostgreSQL {} (window {} .. {})", i + 1, n,
                                         options_.What(), s_.client->endpoint(), s_.window_start, s_.window_stop);
      }
      partition_done_[i] = !*more;
      parts.push_back("SELECT * FROM " + SqlIdent(partitions_[i]->table()));
    }
    SLUICE_TRY(connection.Execute(fmt::format("CREATE OR REPLACE TEMP VIEW {} AS {}", SqlIdent(relation),
                                              Join(parts, " UNION ALL "))));
    bool all_done = std::all_of(partition_done_.begin(), partition_done_.end(), [](bool d) { return d; });
    return all_done ? ReadState::kFinished : ReadState::kHaveMore;
  }

  /// The watermark becomes the largest cursor value seen so far (never lower than the stored one),
  /// computed by DuckDB in the cursor's own type so that text ordering never decides.
  Status AdvanceWatermark(engine::Connection& connection, const std::string& relation) {
    const PgColumn* cursor = nullptr;
    for (const auto& c : s_.columns) {
      if (c.name == options_.cursor) cursor = &c;
    }
    if (cursor == nullptr) return Status::Internal("postgres source: cursor column '{}' is not read", options_.cursor);
    std::string type = engine::DuckDbTypeName(cursor->target);
    std::string sql = fmt::format("SELECT CAST(max(v) AS VARCHAR) AS m FROM (SELECT max({}) AS v FROM {}", SqlIdent(cursor->name),
                                  SqlIdent(relation));
    if (s_.state.watermark) sql += fmt::format(" UNION ALL SELECT CAST({} AS {})", SqlQuote(*s_.state.watermark), type);
    sql += ")";
    SLUICE_ASSIGN_OR_RETURN(auto result, connection.Query(sql));
    if (!result.rows.empty() && !result.rows[0].empty() && result.rows[0][0]) s_.state.watermark = *result.rows[0][0];
    return Status::OK();
  }

  PostgresOptions options_;
  Setup s_;
  std::unique_ptr<postgres::PgCopyReader> copy_;  // declared after s_: destroyed before the client it uses
  std::unique_ptr<engine::RowStream> stream_;         // the part being streamed, which owns its COPY readers
  std::vector<postgres::PgCopyReader*> streamed_copies_;  // ...in the order of their ranges
  std::vector<std::unique_ptr<postgres::PgCopyReader>> partitions_;
  std::vector<bool> partition_done_;
  uint64_t chunk_rows_ = 0;     // mode: full in chunks held in a table: rows so far
  uint64_t streamed_rows_ = 0;  // parts handed over as streams: rows so far
  // mode: full in chunks, streamed over several connections: the LIMIT of the chunk's last range,
  // and the previous chunk's key span per row (0 = not known yet), from which the next chunk's
  // range boundaries are estimated.
  int64_t last_range_limit_ = 0;
  double keys_per_row_ = 0;
  std::optional<double> key_floor_;  // below the table's smallest key, once EstimateKeySpacing ran
  // mode: changes on the server (StartRowHashing): the key columns, the hash expression, and
  // after RestrictToKeys the numbered changed keys and how many have been fetched.
  std::vector<PgColumn> key_columns_;
  std::string row_hash_sql_;
  std::string changed_keys_;
  int64_t changed_key_count_ = 0, fetched_keys_ = 0;
};

class PostgresSource final : public Source {
 public:
  PostgresSource(PostgresOptions options, SourcePlan plan) : options_(std::move(options)), plan_(std::move(plan)) {}

  const SourcePlan& plan() const override { return plan_; }

  Result<std::unique_ptr<SourceReader>> Open(const Checkpoint& checkpoint, const RunContext& context) override {
    PostgresReader::Setup setup;
    SLUICE_ASSIGN_OR_RETURN(setup.state, ParseState(checkpoint.state_json, options_));
    bool incremental = options_.mode == LoadMode::kIncremental;
    if (incremental && setup.state.watermark && !setup.state.cursor.empty() && setup.state.cursor != options_.cursor) {
      return Status::Invalid(
          "{}: job '{}' of pipeline '{}' stored its watermark for cursor column '{}', but the source now says cursor: {}; "
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
    if (!described.ok()) return described.status().WithContext("{}: describing {}", options_.location.ToString(), options_.What());
    SLUICE_ASSIGN_OR_RETURN(setup.columns, SelectColumns(std::move(*described)));

    std::string where;
    std::string condition;
    if (incremental) {
      const PgColumn* cursor = FindColumn(setup.columns, options_.cursor);
      if (cursor == nullptr) {
        return Status::Invalid("{}: cursor column '{}' is not among the columns read from {}{}",
                               options_.location.ToString(), options_.cursor, options_.What(),
                               Hint(options_.cursor, setup.columns));
      }
      setup.cursor_kind = CursorKindOf(*cursor);
      if (!setup.cursor_kind) {
        return Status::Invalid(
            "{}: cursor column '{}' of {} is {}; an incremental cursor must be a timestamp, timestamptz, date or "
            "integer column that grows when rows are added or changed",
            options_.location.ToString(), options_.cursor, options_.What(), cursor->type_name);
      }
      SLUICE_ASSIGN_OR_RETURN(auto lookback, ParseLookback(options_.lookback, *setup.cursor_kind, options_.cursor));
      std::string ident = postgres::QuoteIdent(options_.cursor);
      if (setup.state.watermark) {
        std::string watermark = LowerBoundSql(*setup.cursor_kind, *setup.state.watermark, {});
        where = fmt::format(" WHERE {} > {}", ident, LowerBoundSql(*setup.cursor_kind, *setup.state.watermark, lookback));
        condition = fmt::format("rows with {} > {}{}", options_.cursor, *setup.state.watermark,
                                lookback.Describe(*setup.cursor_kind));
        // Only rows beyond the watermark itself count as news; the lookback window is re-read
        // when there are some, so a quiet source reports "no changes" instead of re-loading it.
        SLUICE_ASSIGN_OR_RETURN(
            auto probe, pg.Query(fmt::format("SELECT EXISTS(SELECT 1 FROM {} WHERE {} > {}) AS newer", options_.FromSql(),
                                             ident, watermark)));
        setup.nothing_to_read = probe.Get(0, "newer") != "t";
      } else {
        condition = "all rows (first run)";
        SLUICE_ASSIGN_OR_RETURN(
            auto probe, pg.Query(fmt::format("SELECT EXISTS(SELECT 1 FROM {}) AS any", options_.FromSql())));
        setup.nothing_to_read = probe.Get(0, "any") != "t";
      }
    } else if (options_.mode == LoadMode::kWindow) {
      setup.run_id = context.run_id;
      SLUICE_TRY(PlanWindow(pg, &setup, &condition));
    } else {
      condition = "all rows";
      if (options_.mode == LoadMode::kFull && options_.is_table() && options_.resumable) {
        SLUICE_TRY(PlanChunks(pg, checkpoint, &setup));
      }
    }
    setup.read_sql = fmt::format("SELECT * FROM {}{}", options_.FromSql(), where);
    setup.stream_parts = context.single_scan && (options_.mode == LoadMode::kFull || options_.mode == LoadMode::kWindow);
    if (setup.stream_parts && options_.mode == LoadMode::kFull && options_.read_connections > 1 && options_.is_table() && !setup.nothing_to_read) {
      SLUICE_TRY(PlanStreams(pg, &setup));
    }
    if (!setup.chunk_key.empty()) {
      condition = setup.resumed ? fmt::format("rows with {} > {} (resuming an interrupted full load), in chunks of {}",
                                              setup.chunk_key, setup.chunk_after, setup.chunk_rows)
                                : fmt::format("all rows, in chunks of {} by {}", setup.chunk_rows, setup.chunk_key);
    }
    if (!setup.stream_clients.empty()) {
      condition += fmt::format(", read by {} connections side by side", setup.stream_clients.size() + 1);
    }

    std::string size_text;
    if (options_.is_table()) {
      auto size = pg.QueryParams("SELECT pg_total_relation_size(format('%I.%I', $1::text, $2::text)::regclass) AS bytes",
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
    return std::unique_ptr<SourceReader>(std::make_unique<PostgresReader>(options_, std::move(setup)));
  }

 private:
  /// mode: full of a table with an integer key: chunks in key order inside one REPEATABLE READ
  /// snapshot, starting past the key an interrupted earlier run of the same table and columns reached.
  Status PlanChunks(PgClient& pg, const Checkpoint& checkpoint, PostgresReader::Setup* setup) const {
    std::string key = options_.chunk_by;
    if (key.empty()) {
      SLUICE_ASSIGN_OR_RETURN(
          auto pk, pg.QueryParams("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                                  "AND a.attnum = ANY(i.indkey) WHERE i.indisprimary "
                                  "AND i.indrelid = format('%I.%I', $1::text, $2::text)::regclass",
                                  {options_.schema, options_.table}));
      const PgColumn* column = pk.rows.size() == 1 ? FindColumn(setup->columns, pk.Get(0, "attname")) : nullptr;
      if (column == nullptr || CursorKindOf(*column) != CursorKind::kInteger) {
        spdlog::info("job '{}': {} has no single-column integer primary key among the columns read; an interrupted full "
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
        return Status::Invalid("{}: chunk_by column '{}' of {} is {}{}; chunks need an integer NOT NULL column (or set "
                               "resumable: false)",
                               options_.location.ToString(), key, options_.What(), column->type_name,
                               column->not_null ? "" : " and may be NULL");
      }
      // A chunk ends after a number of rows: rows sharing the last key beyond it would be skipped.
      SLUICE_ASSIGN_OR_RETURN(bool unique, KeyIsUnique(pg, options_.schema, options_.table, {key}));
      if (!unique) {
        return Status::Invalid("{}: chunk_by column '{}' of {} has no unique index; chunks need a unique integer column "
                               "(add a unique index, or set resumable: false)",
                               options_.location.ToString(), key, options_.What());
      }
    }
    std::vector<std::string> signature;
    for (const auto& c : setup->columns) signature.push_back(c.name + " " + c.type_name);
    setup->chunk_key = key;
    setup->chunk_identity = fmt::format("{} by {}: {}", options_.What(), key, Join(signature, ", "));
    if (!checkpoint.resume_token.empty()) {
      auto token = nlohmann::json::parse(checkpoint.resume_token, nullptr, false);
      if (!token.is_discarded() && token.value("identity", "") == setup->chunk_identity && token.contains("after")) {
        setup->chunk_after = token.value("after", "");
        setup->resumed = !setup->chunk_after.empty();
      } else {
        spdlog::warn("job '{}': the interrupted full load of {} was read with other columns or another key; starting over",
                     options_.job, options_.What());
      }
    }
    setup->chunk_rows = options_.batch_rows;
    // Every chunk of this run sees the same data; a resumed load spans two snapshots (documented).
    if (setup->snapshot.empty()) SLUICE_TRY(pg.Execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    return Status::OK();
  }

  /// mode: full, streamed: read_connections - 1 more connections in the snapshot of the first,
  /// reading consecutive ranges of the chunk key (ChunkRangeSqls; a chunk then holds batch_rows
  /// rows per connection) or, without chunks, of the table's physical blocks (a TID range scan
  /// each, PostgreSQL 14+).
  Status PlanStreams(PgClient& pg, PostgresReader::Setup* setup) const {
    int64_t n = options_.read_connections;
    std::string blocks_sql =
        "SELECT pg_relation_size(format('%I.%I', $1::text, $2::text)::regclass) / current_setting('block_size')::bigint AS b";
    int64_t blocks = 0;
    if (setup->chunk_key.empty()) {
      if (pg.server_version() < 140000) return Status::OK();  // no TID range scans: one connection reads
      SLUICE_ASSIGN_OR_RETURN(auto size, pg.QueryParams(blocks_sql, {options_.schema, options_.table}));
      blocks = std::strtoll(size.Get(0, "b").c_str(), nullptr, 10);
      if (blocks < n) return Status::OK();  // too small to be worth more connections
    }
    std::string snapshot = setup->snapshot;
    if (!snapshot.empty()) {
      // Reading in a snapshot given from outside: the other connections import the same one.
    } else if (setup->chunk_key.empty()) {
      SLUICE_ASSIGN_OR_RETURN(snapshot, pg.ExportSnapshot());
    } else {  // PlanChunks opened the snapshot's transaction already
      SLUICE_ASSIGN_OR_RETURN(auto exported, pg.Query("SELECT pg_export_snapshot() AS s"));
      snapshot = exported.Get(0, "s");
    }
    for (int64_t i = 1; i < n; ++i) {
      SLUICE_ASSIGN_OR_RETURN(auto client, ConnectWithRetries());
      SLUICE_TRY(client->ImportSnapshot(snapshot));
      setup->stream_clients.push_back(std::move(client));
    }
    if (!setup->chunk_key.empty()) {
      setup->chunk_rows = options_.batch_rows * n;  // each connection reads batch_rows rows of a chunk
      return Status::OK();
    }
    // Blocks appended after the size was read hold only rows this snapshot cannot see; the last
    // range is open-ended anyway.
    for (int64_t i = 0; i < n; ++i) {
      std::vector<std::string> range;
      if (i > 0) range.push_back(fmt::format("ctid >= '({},0)'::tid", blocks * i / n));
      if (i < n - 1) range.push_back(fmt::format("ctid < '({},0)'::tid", blocks * (i + 1) / n));
      setup->stream_sqls.push_back(fmt::format("{} WHERE {}", setup->read_sql, Join(range, " AND ")));
    }
    return Status::OK();
  }

  /// mode: window: the stored window (or the configured first one), whether it has closed, the
  /// next one, and one query per partition on connections sharing one exported snapshot.
  Status PlanWindow(PgClient& pg, PostgresReader::Setup* setup, std::string* condition) const {
    const auto& w = options_.window;
    const PgColumn* column = FindColumn(setup->columns, w.column);
    if (column == nullptr) {
      return Status::Invalid("{}: window column '{}' is not among the columns read from {}{}", options_.location.ToString(),
                             w.column, options_.What(), Hint(w.column, setup->columns));
    }
    auto kind = CursorKindOf(*column);
    if (!kind) {
      return Status::Invalid("{}: window column '{}' of {} is {}; a window column must be a timestamp, timestamptz, date or "
                             "integer column",
                             options_.location.ToString(), w.column, options_.What(), column->type_name);
    }
    setup->window_start = setup->state.window.start.value_or(w.start);
    setup->window_stop = setup->state.window.start ? setup->state.window.stop.value_or(w.stop) : w.stop;
    std::string type = PgTypeOf(*kind);
    std::string start = fmt::format("{}::{}", postgres::QuoteLiteral(setup->window_start), type);
    std::string stop = fmt::format("{}::{}", postgres::QuoteLiteral(setup->window_stop), type);
    std::string step = *kind == CursorKind::kInteger ? fmt::format("{}::bigint", postgres::QuoteLiteral(w.step))
                                                     : fmt::format("{}::interval", postgres::QuoteLiteral(w.step));
    std::string closed = *kind == CursorKind::kInteger ? "true" : fmt::format("{} <= now()::{}", stop, type);
    auto plan = pg.Query(fmt::format("SELECT ({1} + {2})::{3}::text AS next_stop, {0} < {1} AS ordered, {4} AS closed",
                                     start, stop, step, type, closed));
    if (!plan.ok()) {
      return plan.status().WithContext("{}: window {} .. {} step {} of column '{}'", options_.location.ToString(),
                                       setup->window_start, setup->window_stop, w.step, w.column);
    }
    if (plan->Get(0, "ordered") != "t") {
      return Status::Invalid("{}: window start {} is not before stop {} (column '{}')", options_.location.ToString(),
                             setup->window_start, setup->window_stop, w.column);
    }
    // The next window starts where this one stops; a window still open is not read yet, so rows
    // that arrive later in it are never skipped.
    setup->next_start = setup->window_stop;
    setup->next_stop = plan->Get(0, "next_stop");
    *condition = fmt::format("window {} >= {} and < {}", w.column, setup->window_start, setup->window_stop);
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
        setup->partition_clients.push_back(std::move(client));
      }
      *condition += fmt::format(", {} partitions of {} in one snapshot", partitions.num_partitions, partitions.column);
    }
    for (int64_t i = 0; i < partitions.num_partitions; ++i) {
      setup->partition_sqls.push_back(fmt::format("SELECT * FROM {} WHERE {} AND {}", options_.FromSql(), window_where,
                                                  partitions.Condition(i)));
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

  PostgresOptions options_;
  SourcePlan plan_;
};

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

  std::string mode = context.job_config != nullptr ? context.job_config->mode : "full";
  if (mode == "full") {
    o.mode = LoadMode::kFull;
    if (!o.cursor.empty()) {
      spdlog::warn("{}: cursor: {} is ignored because {} uses mode: full (each run copies everything)",
                   v.Find("cursor")->location().ToString(), o.cursor, where);
    }
  } else if (mode == "incremental") {
    o.mode = LoadMode::kIncremental;
    if (o.cursor.empty()) {
      return Status::Invalid(
          "{}: {} uses mode: incremental, which needs the source key 'cursor': the column that grows when a row is "
          "added or changed (e.g. cursor: updated_at)",
          v.location().ToString(), where);
    }
  } else if (mode == "changes") {
    o.mode = LoadMode::kChanges;
    if (context.job_config->primary_key.empty()) {
      return Status::Invalid(
          "{}: {} uses mode: changes, which needs primary_key: (the columns identifying a row, e.g. primary_key: [id])",
          context.job_config->location.ToString(), where);
    }
  } else if (mode == "window") {
    o.mode = LoadMode::kWindow;
    SLUICE_ASSIGN_OR_RETURN(o.window, ParseWindow(*context.job_config, where));
    if (context.job_config->partitioning.IsMap()) {
      SLUICE_ASSIGN_OR_RETURN(o.partitioning, ParsePartitioning(context.job_config->partitioning, where));
    }
  } else {
    config::Location at = context.job_config->location;
    if (const auto* m = context.job_config->raw.Find("mode")) at = m->location();
    return Status::Invalid(
        "{}: mode: {} of {} is not available for the postgres source yet; use mode: full (copy the table each run), "
        "mode: incremental with cursor: <column>, or mode: changes with primary_key:",
        at.ToString(), mode, where);
  }
  return o;
}

}  // namespace

SourceDescriptor PostgresSourceDescriptor() {
  using config::OptionType;
  SourceDescriptor d;
  d.name = "postgres";
  d.description = "A PostgreSQL table or query, read with binary COPY in batches: full copies, incremental by a cursor column, "
                  "changed rows (mode: changes) or windows read over parallel partitions (mode: window)";
  d.options = {
      {"url", OptionType::kString, "", true, false, "postgresql://user@host:port/database (no password in it)"},
      {"password", OptionType::kString, "", false, true, "the user's password (omit when the server trusts the user)"},
      {"table", OptionType::kString, "", false, false, "schema.table (or table, in schema public) to read; or use query:"},
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
       "own engine thread (by ranges of the chunk key, or of physical blocks on PostgreSQL 14+); more than the engine's "
       "threads gains nothing; 1 reads with one"},
      {"server_side_hash", OptionType::kBool, "true", false, false,
       "mode: changes: PostgreSQL hashes the rows (14 or later) and only changed rows are transferred; false = every "
       "row is transferred and hashed by sluice"},
      {"chunk_by", OptionType::kString, "", false, false,
       "mode: full: the unique (uniquely indexed) integer NOT NULL column whose order the chunks follow; omitted = the "
       "primary key"},
      {"connect_timeout", OptionType::kDuration, "10s", false, false, "give up connecting after this long"},
      {"connect_retries", OptionType::kInt, "2", false, false,
       "retry a connection that failed for a transient reason (refused, too many clients, starting up) this many times"},
      {"sslmode", OptionType::kString, "", false, false,
       "disable | allow | prefer | require | verify-ca | verify-full; omitted = what the URL says (libpq default prefer)"},
  };
  d.bind = [](const BindContext& context, const config::Value& options) -> Result<std::unique_ptr<Source>> {
    if (context.job_config != nullptr && context.job_config->mode == "cdc") return BindPostgresCdc(context, options);
    if (const auto* tables = options.Find("tables"); tables != nullptr && !tables->IsNull()) {
      return Status::Invalid("{}: tables: is for mode: cdc; other modes read one table: (one job per table)",
                             tables->location().ToString());
    }
    SLUICE_ASSIGN_OR_RETURN(auto parsed, ParseOptions(context, options));
    SourcePlan plan;
    plan.connector = "postgres";
    plan.origin = context.connection_name.empty() ? "postgres" : context.connection_name;
    bool incremental = parsed.mode == LoadMode::kIncremental;
    plan.description = incremental ? fmt::format("PostgreSQL {}, rows with a newer {}", parsed.What(), parsed.cursor)
                                   : fmt::format("PostgreSQL {}, all rows", parsed.What());
    if (parsed.mode == LoadMode::kWindow) {
      plan.description = fmt::format("PostgreSQL {}, the next window of {}", parsed.What(), parsed.window.column);
    }
    if (parsed.mode == LoadMode::kChanges) {
      plan.description = fmt::format("PostgreSQL {}, rows changed since the last run", parsed.What());
    }
    // Change loads append inserts/updates/deletes under …/incremental/ like cursor loads.
    plan.is_incremental = parsed.mode != LoadMode::kFull;
    plan.snapshot = parsed.mode == LoadMode::kFull;
    return std::unique_ptr<Source>(std::make_unique<PostgresSource>(std::move(parsed), plan));
  };
  return d;
}

}  // namespace sluice::connectors
