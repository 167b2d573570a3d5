#include "connectors/postgres/pg_copy_reader.hpp"

#include <libpq-fe.h>

#include "common/strings.hpp"

namespace sluice::postgres {

PgCopyReader::PgCopyReader(PgClient& client, engine::Connection* duck, CopyReaderOptions options)
    : client_(client), duck_(duck), options_(std::move(options)) {}

PgCopyReader::~PgCopyReader() {
  if (copy_active_) (void)Cancel();
}

Result<std::unique_ptr<PgCopyReader>> PgCopyReader::Start(PgClient& client, engine::Connection& duck,
                                                          CopyReaderOptions options) {
  if (options.table.empty()) return Status::Invalid("PostgreSQL COPY reader: no DuckDB target table given");
  return Begin(client, &duck, std::move(options));
}

Result<std::unique_ptr<PgCopyReader>> PgCopyReader::StartStream(PgClient& client, CopyReaderOptions options) {
  return Begin(client, nullptr, std::move(options));
}

Result<std::unique_ptr<PgCopyReader>> PgCopyReader::Begin(PgClient& client, engine::Connection* duck,
                                                          CopyReaderOptions options) {
  if (options.query.empty()) return Status::Invalid("PostgreSQL COPY reader: no source query given");
  std::unique_ptr<PgCopyReader> reader(new PgCopyReader(client, duck, std::move(options)));
  if (reader->options_.columns.empty()) {
    SLUICE_ASSIGN_OR_RETURN(reader->columns_, DescribeQuery(client, reader->options_.query, reader->options_.types));
  } else {
    reader->columns_ = reader->options_.columns;
  }
  if (!reader->options_.last_value_column.empty()) {
    for (size_t i = 0; i < reader->columns_.size(); ++i) {
      const PgColumn& c = reader->columns_[i];
      if (c.name != reader->options_.last_value_column) continue;
      if (c.wire != WireType::kInt2 && c.wire != WireType::kInt4 && c.wire != WireType::kInt8) {
        return Status::Invalid("PostgreSQL COPY reader: column '{}' is {}, not an integer", c.name, c.type_name);
      }
      reader->last_value_index_ = static_cast<int>(i);
    }
    if (reader->last_value_index_ < 0) {
      return Status::Invalid("PostgreSQL COPY reader: the query has no column '{}'",
                             reader->options_.last_value_column);
    }
  }
  reader->decoder_.emplace(reader->columns_, client.endpoint(), reader->last_value_index_);
  reader->copy_sql_ = CopySql(reader->options_.query, reader->columns_);
  if (duck != nullptr) SLUICE_TRY(reader->CreateTable());

  PgResult result(PQexec(client.raw(), reader->copy_sql_.c_str()));
  if (PQresultStatus(result.get()) != PGRES_COPY_OUT) {
    return client.ResultError(result.get(), "starting COPY of the source query");
  }
  if (PQbinaryTuples(result.get()) != 1) {
    return Status::Internal("PostgreSQL {}: COPY did not start in binary format", client.endpoint());
  }
  reader->copy_active_ = true;
  return reader;
}

Status PgCopyReader::CreateTable() {
  if (appender_ != nullptr) {
    Status closed = appender_->Close();
    appender_.reset();
    SLUICE_TRY(closed);
  }
  std::vector<engine::AppendColumn> targets = TargetColumns(columns_);
  // Dropping and re-creating (rather than DELETE) hands the previous batch's memory back at once.
  SLUICE_TRY(duck_
                 ->Execute(fmt::format("DROP TABLE IF EXISTS {}; {}", SqlIdent(options_.table),
                                       engine::CreateTableSql(options_.table, targets, options_.temporary)))
                 .WithContext("creating DuckDB table '{}' for the PostgreSQL rows", options_.table));
  SLUICE_ASSIGN_OR_RETURN(appender_, engine::Appender::Make(*duck_, options_.table, std::move(targets)));
  return Status::OK();
}

Status PgCopyReader::Fail(Status status) {
  if (error_.ok()) error_ = status;
  if (copy_active_) (void)Cancel();
  return status;
}

Result<bool> PgCopyReader::ReadBatch(size_t max_rows) {
  if (!error_.ok()) return error_;
  if (appender_ == nullptr)
    return Status::Internal("PostgreSQL COPY reader: ReadBatch on a stream, which RowStream reads");
  if (max_rows == 0) return Status::Invalid("PostgreSQL COPY reader: a batch must allow at least one row");
  if (batch_rows_ > 0 && !options_.keep_previous_batches) {
    if (Status st = CreateTable(); !st.ok()) return Fail(st);
  }
  batch_rows_ = 0;
  if (finished_) return false;
  SLUICE_TRY(ReadRows(*appender_, max_rows));
  if (Status st = appender_->Flush(); !st.ok()) return Fail(st.WithContext("loading PostgreSQL rows"));
  return !finished_;
}

Result<bool> PgCopyReader::Fill(engine::Appender& rows) {
  if (!error_.ok()) return error_;
  batch_rows_ = 0;
  if (finished_) return false;
  if (rows.ChunkRoom() > 0) SLUICE_TRY(ReadRows(rows, rows.ChunkRoom()));
  return !finished_;
}

Status PgCopyReader::ReadRows(engine::Appender& into, size_t max_rows) {
  while (batch_rows_ < max_rows) {
    char* buffer = nullptr;
    int size = PQgetCopyData(client_.raw(), &buffer, /*async=*/0);
    if (size > 0) {
      bytes_ += static_cast<uint64_t>(size);
      bool trailer = false;
      Status st =
          decoder_->DecodeMessage(into, reinterpret_cast<const uint8_t*>(buffer), static_cast<size_t>(size), &trailer);
      PQfreemem(buffer);
      if (!st.ok()) return Fail(st);
      if (!trailer) {
        ++batch_rows_;
        ++rows_;
      }
      continue;
    }
    if (size == -1) {
      if (Status st = FinishCopy(); !st.ok()) return Fail(st);
      break;
    }
    return Fail(client_.ConnectionError(fmt::format("reading COPY data after row {}", rows_)));
  }
  return Status::OK();
}

Status PgCopyReader::FinishCopy() {
  copy_active_ = false;
  finished_ = true;
  Status status;
  while (PGresult* raw = PQgetResult(client_.raw())) {
    PgResult result(raw);
    if (PQresultStatus(raw) != PGRES_COMMAND_OK && status.ok()) {
      status = client_.ResultError(raw, "COPY of the source query");
    }
  }
  return status;
}

Status PgCopyReader::Cancel() {
  if (!copy_active_) return Status::OK();
  Status cancelled = client_.Cancel();
  // Drain what the server sent before it saw the cancel, so the connection is usable again.
  for (;;) {
    char* buffer = nullptr;
    int size = PQgetCopyData(client_.raw(), &buffer, 0);
    if (buffer != nullptr) PQfreemem(buffer);
    if (size < 0) break;
  }
  copy_active_ = false;
  finished_ = true;
  while (PGresult* raw = PQgetResult(client_.raw())) PQclear(raw);
  if (error_.ok()) error_ = Status::Cancelled("PostgreSQL {}: the COPY was cancelled", client_.endpoint());
  return cancelled;
}

}  // namespace sluice::postgres
