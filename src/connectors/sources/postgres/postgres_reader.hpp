#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "connectors/postgres/pg_copy_reader.hpp"
#include "connectors/source.hpp"
#include "connectors/sources/postgres/postgres_options.hpp"
#include "connectors/sources/postgres/postgres_planner.hpp"
#include "engine/engine.hpp"
#include "engine/row_stream.hpp"

namespace sluice::connectors::pg_source {

/// What every read strategy shares: the plan, reading `read_sql` by one COPY in batches of
/// batch_rows, and parts handed over as RowStreams over one or more connections. One subclass
/// per load mode (postgres_<mode>_reader.cpp) adds its own way of reading.
class PostgresReader : public SourceReader {
 public:
  PostgresReader(PostgresOptions options, ReadPlan plan) : options_(std::move(options)), s_(std::move(plan)) {}

  std::string PendingSummary() const override { return s_.summary; }
  bool NothingToRead() const override { return s_.nothing_to_read; }
  uint64_t PendingBytes() const override { return s_.pending_bytes; }
  Result<ReadState> Read(engine::Connection& connection, const std::string& relation) override {
    return ReadCopy(connection, relation);
  }
  /// A streamed part is the last one unless a subclass says otherwise.
  Result<ReadState> PartConsumed(Status consumed) override;
  Checkpoint NewCheckpoint() const override { return Checkpoint{}; }

 protected:
  /// What a streamed part held, once the pipeline has consumed it.
  struct StreamedPart {
    uint64_t rows = 0;
    /// The chunk key (FullPlan::chunk_key) in the first row of the first range that read any,
    /// and in the last row of the last one.
    std::optional<int64_t> first_key, last_key;
    std::optional<uint64_t> last_range_rows;  // nullopt when no range was read
  };

  /// The next batch of read_sql, one COPY into `relation` for the whole run.
  Result<ReadState> ReadCopy(engine::Connection& connection, const std::string& relation);
  /// Called by ReadCopy after each batch, before it is handed over.
  virtual Status BatchRead(engine::Connection& /*connection*/, const std::string& /*relation*/) { return Status::OK(); }
  /// Copies every row of `query` (`columns`) into `relation`, through copy_, in batches of
  /// `expected_rows` + 1: a query that returns at most `expected_rows` ends in the first batch.
  Status CopyAll(engine::Connection& connection, const std::string& relation, std::string query,
                 std::vector<postgres::PgColumn> columns, int64_t expected_rows);
  /// Makes `relation` a RowStream over `queries`, the first read on s_.client and the others on
  /// `more_clients` (in order), decoded while DuckDB reads it.
  Status StartStream(engine::Connection& connection, const std::string& relation,
                     const std::vector<std::string>& queries,
                     const std::vector<std::unique_ptr<postgres::PgClient>>& more_clients);
  /// After a part from StartStream: the reading error or `consumed`'s, or what the part held.
  Result<StreamedPart> EndStream(Status consumed);

  PostgresOptions options_;
  ReadPlan s_;
  std::unique_ptr<postgres::PgCopyReader> copy_;          // declared after s_: destroyed before the client it uses
  std::unique_ptr<engine::RowStream> stream_;             // the part being streamed, which owns its COPY readers
  std::vector<postgres::PgCopyReader*> streamed_copies_;  // ...in the order of their ranges
  uint64_t streamed_rows_ = 0;                            // parts handed over as streams: rows so far
};

std::unique_ptr<SourceReader> MakeFullReader(PostgresOptions options, ReadPlan plan);
std::unique_ptr<SourceReader> MakeIncrementalReader(PostgresOptions options, ReadPlan plan);
std::unique_ptr<SourceReader> MakeChangesReader(PostgresOptions options, ReadPlan plan);
std::unique_ptr<SourceReader> MakeWindowReader(PostgresOptions options, ReadPlan plan);

}  // namespace sluice::connectors::pg_source
