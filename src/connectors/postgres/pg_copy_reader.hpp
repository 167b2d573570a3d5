#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "connectors/postgres/pg_client.hpp"
#include "connectors/postgres/pg_copy_decoder.hpp"
#include "connectors/postgres/pg_types.hpp"
#include "engine/appender.hpp"
#include "engine/engine.hpp"
#include "engine/row_stream.hpp"

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
  /// An integer column whose value in the first and the last row read is kept (first_value(),
  /// last_value()); "" = none.
  std::string last_value_column;
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
/// Or, with no table in between, as the producer of an engine::RowStream:
///
///   auto reader = PgCopyReader::StartStream(pg, options);  // options.table is not used
///   engine::RowStream::Create(duck, "view", TargetColumns(reader->columns()), {std::move(reader)});
///
/// The PgClient must outlive the reader and is busy until the COPY ends (or is cancelled).
class PgCopyReader final : public engine::RowProducer {
 public:
  static Result<std::unique_ptr<PgCopyReader>> Start(PgClient& client, engine::Connection& duck,
                                                     CopyReaderOptions options);
  /// Starts the COPY without a DuckDB table: rows are decoded by FillChunk.
  static Result<std::unique_ptr<PgCopyReader>> StartStream(PgClient& client, CopyReaderOptions options);
  /// Cancels a COPY still running, so that the PostgreSQL connection can be used again.
  ~PgCopyReader() override;
  PgCopyReader(const PgCopyReader&) = delete;
  PgCopyReader& operator=(const PgCopyReader&) = delete;

  /// Reads up to `max_rows` rows into the table. Returns false once the COPY has ended (the rows
  /// of this last batch, possibly none, are in the table); true when more rows may follow.
  Result<bool> ReadBatch(size_t max_rows);
  /// StartStream: decodes rows into `rows` while it has room. Returns false once the COPY has ended.
  Result<bool> Fill(engine::Appender& rows) override;
  /// Stops the COPY early (server-side cancel, then drains what is in flight).
  Status Cancel();

  const std::vector<PgColumn>& columns() const { return columns_; }
  const std::string& table() const { return options_.table; }
  const std::string& copy_sql() const { return copy_sql_; }
  uint64_t rows() const { return rows_; }              // all batches
  uint64_t bytes() const { return bytes_; }            // COPY payload bytes received
  uint64_t batch_rows() const { return batch_rows_; }  // rows of the last ReadBatch
  bool finished() const { return finished_; }
  /// options.last_value_column in the first and the last row read; nullopt before the first row.
  std::optional<int64_t> first_value() const { return decoder_ ? decoder_->first_value() : std::nullopt; }
  std::optional<int64_t> last_value() const { return decoder_ ? decoder_->last_value() : std::nullopt; }

 private:
  PgCopyReader(PgClient& client, engine::Connection* duck, CopyReaderOptions options);
  static Result<std::unique_ptr<PgCopyReader>> Begin(PgClient& client, engine::Connection* duck,
                                                     CopyReaderOptions options);
  Status CreateTable();
  Status ReadRows(engine::Appender& into, size_t max_rows);
  Status FinishCopy();
  Status Fail(Status status);

  PgClient& client_;
  engine::Connection* duck_;  // null for a stream
  CopyReaderOptions options_;
  std::vector<PgColumn> columns_;
  std::string copy_sql_;
  std::unique_ptr<engine::Appender> appender_;
  std::optional<CopyDecoder> decoder_;
  bool copy_active_ = false;
  bool finished_ = false;
  Status error_;
  uint64_t rows_ = 0;
  uint64_t bytes_ = 0;
  uint64_t batch_rows_ = 0;
  int last_value_index_ = -1;
};

}  // namespace sluice::postgres
