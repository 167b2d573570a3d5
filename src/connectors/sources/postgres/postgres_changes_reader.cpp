#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "common/strings.hpp"
#include "connectors/sources/postgres/postgres_reader.hpp"

namespace sluice::connectors::pg_source {
namespace {

using postgres::PgColumn;
using postgres::WireType;

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
  static const std::set<uint32_t> kHashable = {16, 21, 23,   20,   26,   700,  701,  1700, 25,   1043, 1042,
                                               19, 18, 1082, 1083, 1114, 1184, 1186, 2950, 3802, 17};
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

/// The same as a quoted literal, to cast in SQL.
std::string ArrayLiteral(const std::vector<engine::TextRow>& rows, size_t column) {
  return postgres::QuoteLiteral(ArrayText(rows, column));
}

/// mode: changes: every row by one COPY, or, hashed on the server (PostgreSQL 14+), first each
/// key with its row's hash and then only the rows of the keys whose hash changed.
class ChangesReader final : public PostgresReader, public RowHashingRead {
 public:
  using PostgresReader::PostgresReader;

  Result<ReadState> Read(engine::Connection& connection, const std::string& relation) override {
    if (!changed_keys_.empty()) return ReadChangedRows(connection, relation);
    return ReadCopy(connection, relation);
  }

  /// Hashing on the server can be turned off (server_side_hash: false); the pipeline then hashes.
  RowHashingRead* row_hashing() override { return options_.server_side_hash ? this : nullptr; }
  Result<SourceRowHashing> StartRowHashing(const RowHashRequest& request) override {
    SourceRowHashing hashing;
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
      SLUICE_ASSIGN_OR_RETURN(hashing.unique_keys,
                              KeyIsUnique(*s_.client, options_.schema, options_.table, request.key));
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
      return copied.WithContext("reading the row hashes of {} from PostgreSQL {}", options_.What(),
                                s_.client->endpoint());
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
    SLUICE_TRY(connection.Execute(
        fmt::format("CREATE OR REPLACE TEMP TABLE {} AS SELECT row_number() OVER () AS _n, {} FROM {}",
                    SqlIdent(changed_keys_), Join(as_text, ", "), SqlIdent(keys))));
    SLUICE_ASSIGN_OR_RETURN(auto count, connection.Query("SELECT count(*) AS n FROM " + SqlIdent(changed_keys_)));
    changed_key_count_ = count.GetInt(0, "n");
    fetched_keys_ = 0;
    return Status::OK();
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

  /// After RestrictToKeys: each Read() fetches the rows of the next kKeysPerFetch changed keys
  /// (all of them in the snapshot the keys were read in).
  Result<ReadState> ReadChangedRows(engine::Connection& connection, const std::string& relation) {
    int64_t per_fetch = std::min<int64_t>(options_.batch_rows, kKeysPerFetch);
    std::vector<std::string> names;
    for (const auto& k : key_columns_) names.push_back(SqlIdent(k.name));
    SLUICE_ASSIGN_OR_RETURN(
        auto batch,
        connection.Query(fmt::format("SELECT {} FROM {} WHERE _n > {} AND _n <= {} ORDER BY _n", Join(names, ", "),
                                     SqlIdent(changed_keys_), fetched_keys_, fetched_keys_ + per_fetch)));
    std::string where = "false";  // no changed keys: an empty part that still has the columns
    if (!batch.rows.empty() && key_columns_.size() == 1) {
      const auto& key = key_columns_[0];
      where =
          fmt::format("{} = ANY({}::{}[])", postgres::QuoteIdent(key.name), ArrayLiteral(batch.rows, 0), key.type_name);
    } else if (!batch.rows.empty()) {
      std::vector<std::string> keys, arrays;
      for (size_t i = 0; i < key_columns_.size(); ++i) {
        keys.push_back(postgres::QuoteIdent(key_columns_[i].name));
        arrays.push_back(fmt::format("{}::{}[]", ArrayLiteral(batch.rows, i), key_columns_[i].type_name));
      }
      where = fmt::format("({}) IN (SELECT * FROM unnest({}))", Join(keys, ", "), Join(arrays, ", "));
    }
    Status copied =
        CopyAll(connection, relation, fmt::format("{} WHERE {}", s_.read_sql, where), s_.columns, per_fetch);
    if (!copied.ok()) {
      return copied.WithContext("reading the changed rows of {} from PostgreSQL {}", options_.What(),
                                s_.client->endpoint());
    }
    fetched_keys_ += static_cast<int64_t>(batch.rows.size());
    spdlog::debug("postgres source of job '{}': {} changed rows fetched by key ({} of {} keys)", options_.job,
                  copy_->rows(), fetched_keys_, changed_key_count_);
    return fetched_keys_ < changed_key_count_ ? ReadState::kHaveMore : ReadState::kFinished;
  }

  // Hashed on the server (StartRowHashing): the key columns, the hash expression, and after
  // RestrictToKeys the numbered changed keys and how many have been fetched.
  std::vector<PgColumn> key_columns_;
  std::string row_hash_sql_;
  std::string changed_keys_;
  int64_t changed_key_count_ = 0, fetched_keys_ = 0;
};

}  // namespace

std::unique_ptr<SourceReader> MakeChangesReader(PostgresOptions options, ReadPlan plan) {
  return std::make_unique<ChangesReader>(std::move(options), std::move(plan));
}

}  // namespace sluice::connectors::pg_source
