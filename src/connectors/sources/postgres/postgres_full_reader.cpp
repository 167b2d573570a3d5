#include <spdlog/spdlog.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "common/strings.hpp"
#include "connectors/sources/postgres/postgres_reader.hpp"

namespace sluice::connectors::pg_source {
namespace {

/// mode: full: the whole table or query by one COPY; of a table with an integer key, in chunks
/// in key order that a later run resumes from (ResumeToken); read once by the pipeline, as
/// streams over one or more connections side by side.
class FullReader final : public PostgresReader, public ResumableRead {
 public:
  using PostgresReader::PostgresReader;

  Result<ReadState> Read(engine::Connection& connection, const std::string& relation) override {
    if (s_.stream_parts) return StreamPart(connection, relation);
    if (!s_.full.chunk_key.empty()) return ReadChunk(connection, relation);
    return ReadCopy(connection, relation);
  }

  Result<ReadState> PartConsumed(Status consumed) override {
    if (stream_ == nullptr) return SourceReader::PartConsumed(std::move(consumed));
    SLUICE_ASSIGN_OR_RETURN(auto part, EndStream(std::move(consumed)));
    bool last_range_full = part.last_range_rows && *part.last_range_rows >= static_cast<uint64_t>(last_range_limit_);
    // Only the last range is cut short by a LIMIT: when it is not full, every row has been read.
    if (s_.full.chunk_key.empty() || !last_range_full || !part.last_key) return ReadState::kFinished;
    s_.full.chunk_after = std::to_string(*part.last_key);
    if (part.first_key && part.rows > 1) {
      keys_per_row_ = static_cast<double>(*part.last_key - *part.first_key) / static_cast<double>(part.rows - 1);
    }
    // A table of an exact multiple of batch_rows would otherwise end with a chunk of no rows.
    SLUICE_ASSIGN_OR_RETURN(
        auto rest, s_.client->Query(fmt::format("SELECT EXISTS (SELECT 1 FROM {} WHERE {} > {}::bigint) AS more",
                                                options_.FromSql(), postgres::QuoteIdent(s_.full.chunk_key),
                                                postgres::QuoteLiteral(s_.full.chunk_after))));
    return rest.Get(0, "more") == "t" ? ReadState::kHaveMore : ReadState::kFinished;
  }

  /// Only a table read in chunks of its integer key can be resumed.
  const ResumableRead* resumable() const override { return s_.full.chunk_key.empty() ? nullptr : this; }
  std::string ResumeToken() const override {
    if (s_.full.chunk_key.empty() || s_.full.chunk_after.empty()) return "";
    return nlohmann::json{{"identity", s_.full.chunk_identity}, {"after", s_.full.chunk_after}}.dump();
  }

  bool Resuming() const override { return s_.full.resumed; }

 private:
  /// mode: full in chunks: the next batch_rows rows in key order past the last key read.
  std::string NextChunkSql() const {
    std::string key = postgres::QuoteIdent(s_.full.chunk_key);
    std::string past = s_.full.chunk_after.empty()
                           ? ""
                           : fmt::format(" WHERE {} > {}::bigint", key, postgres::QuoteLiteral(s_.full.chunk_after));
    return fmt::format("SELECT * FROM {}{} ORDER BY {} LIMIT {}", options_.FromSql(), past, key, s_.full.chunk_rows);
  }

  /// Read once by the pipeline: the whole table, or the next chunk, as a RowStream decoded while
  /// DuckDB writes it, split over the stream clients. PartConsumed() then tells whether more
  /// chunks follow.
  Result<ReadState> StreamPart(engine::Connection& connection, const std::string& relation) {
    std::vector<std::string> queries = s_.full.stream_sqls;
    if (queries.empty()) queries = {s_.read_sql};
    if (!s_.full.chunk_key.empty()) {
      SLUICE_ASSIGN_OR_RETURN(queries, ChunkRangeSqls());
    }
    SLUICE_TRY(StartStream(connection, relation, queries, s_.full.stream_clients));
    return s_.full.chunk_key.empty() ? ReadState::kFinished : ReadState::kHaveMore;
  }

  /// The next chunk as consecutive key ranges, one per stream client. The boundaries are the keys
  /// every batch_rows rows past the last key read, estimated from the keys per row: the
  /// table's (EstimateKeySpacing) for the first chunk, then the previous chunk's; an index-only
  /// walk finds them when the table has no row count yet. An
  /// estimate only changes how many rows a chunk gets, never which rows are read: the ranges
  /// are consecutive and only the last one stops after a number of rows (last_range_limit_).
  Result<std::vector<std::string>> ChunkRangeSqls() {
    size_t n = 1 + s_.full.stream_clients.size();
    int64_t step = s_.full.chunk_rows / static_cast<int64_t>(n);
    last_range_limit_ = s_.full.chunk_rows;
    if (n == 1 || step == 0) return std::vector<std::string>{NextChunkSql()};
    std::string key = postgres::QuoteIdent(s_.full.chunk_key);
    std::string table = options_.FromSql();
    std::string lower = s_.full.chunk_after.empty()
                            ? ""
                            : fmt::format("{} > {}::bigint", key, postgres::QuoteLiteral(s_.full.chunk_after));
    std::vector<std::string> bounds;
    if (keys_per_row_ <= 0 && !key_floor_) SLUICE_TRY(EstimateKeySpacing());
    if (keys_per_row_ > 0 && (!s_.full.chunk_after.empty() || key_floor_)) {
      double after = s_.full.chunk_after.empty() ? *key_floor_ : std::strtod(s_.full.chunk_after.c_str(), nullptr);
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
          auto found,
          s_.client->Query(fmt::format("SELECT {0}::text AS k FROM {1}{2} ORDER BY {0} OFFSET {3} LIMIT 1", key, table,
                                       lower.empty() ? "" : " WHERE " + lower, static_cast<int64_t>(i) * step - 1)));
      if (found.rows.empty()) break;
      bounds.push_back(found.Get(0, "k"));
    }
    if (bounds.empty()) return std::vector<std::string>{NextChunkSql()};
    std::vector<std::string> queries;
    std::string from = lower;
    for (const auto& bound : bounds) {
      std::string upto = fmt::format("{} <= {}::bigint", key, postgres::QuoteLiteral(bound));
      queries.push_back(
          fmt::format("SELECT * FROM {} WHERE {}{} ORDER BY {}", table, from.empty() ? "" : from + " AND ", upto, key));
      from = fmt::format("{} > {}::bigint", key, postgres::QuoteLiteral(bound));
    }
    last_range_limit_ = s_.full.chunk_rows - static_cast<int64_t>(bounds.size()) * step;
    queries.push_back(
        fmt::format("SELECT * FROM {} WHERE {} ORDER BY {} LIMIT {}", table, from, key, last_range_limit_));
    return queries;
  }

  /// Before the first chunk: the table's key spacing from its smallest and largest key (both from
  /// the index) and the planner's row count, when PostgreSQL has one (the table was analyzed).
  Status EstimateKeySpacing() {
    std::string key = postgres::QuoteIdent(s_.full.chunk_key);
    SLUICE_ASSIGN_OR_RETURN(
        auto extent,
        s_.client->QueryParams(fmt::format("SELECT min({0})::text AS lo, max({0})::text AS hi, (SELECT c.reltuples "
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
    Status copied = CopyAll(connection, relation, NextChunkSql(), s_.columns, s_.full.chunk_rows);
    if (!copied.ok()) {
      return copied.WithContext("reading {} from PostgreSQL {} ({} > {})", options_.What(), s_.client->endpoint(),
                                s_.full.chunk_key, s_.full.chunk_after.empty() ? "start" : s_.full.chunk_after);
    }
    chunk_rows_ += copy_->rows();
    spdlog::debug("postgres source of job '{}': chunk of {} rows after {} = '{}' ({} so far)", options_.job,
                  copy_->rows(), s_.full.chunk_key, s_.full.chunk_after, chunk_rows_);
    if (copy_->rows() < static_cast<uint64_t>(s_.full.chunk_rows)) return ReadState::kFinished;
    SLUICE_ASSIGN_OR_RETURN(auto last, connection.Query(fmt::format("SELECT CAST(max({}) AS VARCHAR) AS k FROM {}",
                                                                    SqlIdent(s_.full.chunk_key), SqlIdent(relation))));
    s_.full.chunk_after = last.Get(0, "k");
    return ReadState::kHaveMore;
  }

  uint64_t chunk_rows_ = 0;  // chunks held in a table: rows so far
  // Chunks streamed over several connections: the LIMIT of the chunk's last range, and the
  // previous chunk's key span per row (0 = not known yet), from which the next chunk's range
  // boundaries are estimated.
  int64_t last_range_limit_ = 0;
  double keys_per_row_ = 0;
  std::optional<double> key_floor_;  // below the table's smallest key, once EstimateKeySpacing ran
};

}  // namespace

std::unique_ptr<SourceReader> MakeFullReader(PostgresOptions options, ReadPlan plan) {
  return std::make_unique<FullReader>(std::move(options), std::move(plan));
}

}  // namespace sluice::connectors::pg_source
