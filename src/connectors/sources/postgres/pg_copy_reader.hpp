#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "connectors/sources/postgres/pg_client.hpp"
#include "connectors/sources/postgres/pg_types.hpp"
#include "engine/appender.hpp"
#include "engine/engine.hpp"

namespace sluice::postgres {

struct CopyReaderOptions {
  /// The rows to read: any SELECT, e.g. `SELECT * FROM "public"."orders" WHERE id > 100`.
  std::string query;
  /// Column types from DescribeTable/DescribeQuery; when empty, `query` is described here.
  std::vector<PgColumn> columns;
  /// Used only when `columns` is empty.
  TypeMappingOptions types;
  /// DuckDB table to create (replacing one of that name) and fill.
  std::string table;
  bool temporary = true;
  /// false: each ReadBatch replaces the table's rows, so memory stays bounded by one batch.
  bool keep_previous_batches = false;
};

/// Reads `COPY (SELECT …) TO STDOUT (FORMAT binary)` and decodes the stream straight into a DuckDB
/// table through an engine::Appender, one bounded batch at a time.
///
///   auto reader = PgCopyReader::Start(pg, duck, options);
///   for (bool more = true; more;) {
///     SLUICE_ASSIGN_OR_RETURN(more, reader->ReadBatch(100'000));
///     if (reader->batch_rows() > 0) ... consume options.table (e.g. COPY it to Parquet) ...
///   }
///
/// The PgClient must outlive the reader and is busy until the COPY ends (or is cancelled).
class PgCopyReader {
 public:
  static Result<std::unique_ptr<PgCopyReader>> Start(PgClient& client, engine::Connection& duck,
                                                     CopyReaderOptions options);
  /// Cancels a COPY still running, so that the PostgreSQL connection can be used again.
  ~PgCopyReader();
  PgCopyReader(const PgCopyReader&) = delete;
  PgCopyReader& operator=(const PgCopyReader&) = delete;

  /// Reads up to `max_rows` rows into the table. Returns false once the COPY has ended (the rows
  /// of this last batch, possibly none, are in the table); true when more rows may follow.
  Result<bool> ReadBatch(size_t max_rows);
  /// Stops the COPY early (server-side cancel, then drains what is in flight).
  Status Cancel();

  const std::vector<PgColumn>& columns() const { return columns_; }
  const std::string& table() const { return options_.table; }
  const std::string& copy_sql() const { return copy_sql_; }
  uint64_t rows() const { return rows_; }              // all batches
  uint64_t bytes() const { return bytes_; }            // COPY payload bytes received
  uint64_t batch_rows() const { return batch_rows_; }  // rows of the last ReadBatch
  bool finished() const { return finished_; }

 private:
  PgCopyReader(PgClient& client, engine::Connection& duck, CopyReaderOptions options);
  Status CreateTable();
  Status ReadMessage(const uint8_t* data, size_t size, bool* trailer);
  Status DecodeRow(const uint8_t* data, size_t size);
  Status FinishCopy();
  Status Fail(Status status);

  PgClient& client_;
  engine::Connection& duck_;
  CopyReaderOptions options_;
  std::vector<PgColumn> columns_;
  std::string copy_sql_;
  std::unique_ptr<engine::Appender> appender_;
  bool header_seen_ = false;
  bool copy_active_ = false;
  bool finished_ = false;
  Status error_;
  uint64_t rows_ = 0;
  uint64_t bytes_ = 0;
  uint64_t batch_rows_ = 0;
};

}  // namespace sluice::postgres
