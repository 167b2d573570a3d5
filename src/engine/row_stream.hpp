#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "engine/appender.hpp"
#include "engine/engine.hpp"

// Rows produced in C++ (a database extract) read by a DuckDB query as they are produced, with no
// table in between: `COPY (SELECT * FROM stream) TO 'x.parquet'` decodes and encodes in one pass,
// in bounded memory, with one DuckDB worker thread per producer.
namespace sluice::engine {

/// One source of rows of a RowStream. Each producer is driven by one DuckDB worker thread at a
/// time; different producers of a stream run concurrently.
class RowProducer {
 public:
  virtual ~RowProducer() = default;
  /// Writes rows through `rows` (an Appender::ForChunks) while rows.ChunkRoom() > 0. Returns false
  /// once this producer has no more rows (the rows written by this call still count).
  virtual Result<bool> Fill(Appender& rows) = 0;
};

/// A temp view over the rows of a set of producers. The rows can be read once: a second query
/// over the view fails loudly rather than returning nothing, so that whoever reads it must
/// consume it in a single pass (no second look for checks, rejects or counts).
///
///   SLUICE_ASSIGN_OR_RETURN(auto stream, RowStream::Create(connection, "source_orders", columns,
///   std::move(producers))); SLUICE_TRY(connection.Execute("COPY (SELECT * FROM source_orders) TO 'orders.parquet'"));
///   if (!stream->error().ok()) ...  // the producer's own error, more precise than the query's
class RowStream {
 public:
  /// Creates (or replaces) temp view `view` on `connection`'s database reading `producers`,
  /// whose rows are `columns`.
  static Result<std::unique_ptr<RowStream>> Create(Connection& connection, const std::string& view,
                                                   std::vector<AppendColumn> columns,
                                                   std::vector<std::unique_ptr<RowProducer>> producers);
  /// Unregisters the stream (a query over the view then fails) and destroys the producers. No
  /// query may be reading the view any more.
  ~RowStream();
  RowStream(const RowStream&) = delete;
  RowStream& operator=(const RowStream&) = delete;

  const std::string& view() const;
  /// Rows handed to DuckDB so far.
  uint64_t rows() const;
  /// True once every producer has delivered its last row.
  bool finished() const;
  /// The first error a producer returned (with its code and retryability), OK when none did.
  Status error() const;

  struct State;  // shared with DuckDB's callbacks, which may outlive a failed query

 private:
  explicit RowStream(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace sluice::engine
