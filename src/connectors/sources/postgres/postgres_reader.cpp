#include "connectors/sources/postgres/postgres_reader.hpp"

#include <spdlog/spdlog.h>

#include "common/strings.hpp"

namespace sluice::connectors::pg_source {

Result<ReadState> PostgresReader::ReadCopy(engine::Connection& connection, const std::string& relation) {
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
    return more.status().WithContext("reading {} from PostgreSQL {} (row {})", options_.What(), s_.client->endpoint(),
                                     copy_->rows() + 1);
  }
  SLUICE_TRY(BatchRead(connection, relation));
  spdlog::debug("postgres source of job '{}': batch of {} rows ({} so far, {} bytes)", options_.job,
                copy_->batch_rows(), copy_->rows(), copy_->bytes());
  return *more ? ReadState::kHaveMore : ReadState::kFinished;
}

Status PostgresReader::CopyAll(engine::Connection& connection, const std::string& relation, std::string query,
                               std::vector<postgres::PgColumn> columns, int64_t expected_rows) {
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

Status PostgresReader::StartStream(engine::Connection& connection, const std::string& relation,
                                   const std::vector<std::string>& queries,
                                   const std::vector<std::unique_ptr<postgres::PgClient>>& more_clients) {
  std::vector<std::unique_ptr<engine::RowProducer>> producers;
  streamed_copies_.clear();
  for (size_t i = 0; i < queries.size(); ++i) {
    postgres::CopyReaderOptions copy;
    copy.query = queries[i];
    copy.columns = s_.columns;
    copy.last_value_column = s_.full.chunk_key;
    postgres::PgClient& client = i == 0 ? *s_.client : *more_clients[i - 1];
    auto started = postgres::PgCopyReader::StartStream(client, std::move(copy));
    if (!started.ok()) {
      streamed_copies_.clear();
      return started.status().WithContext("reading {} from PostgreSQL", options_.What());
    }
    streamed_copies_.push_back(started->get());
    producers.push_back(std::move(*started));
  }
  auto stream =
      engine::RowStream::Create(connection, relation, postgres::TargetColumns(s_.columns), std::move(producers));
  if (!stream.ok()) {
    streamed_copies_.clear();
    return stream.status();
  }
  stream_ = std::move(*stream);
  return Status::OK();
}

Result<PostgresReader::StreamedPart> PostgresReader::EndStream(Status consumed) {
  Status read = stream_->error();
  if (read.ok() && consumed.ok() && !stream_->finished()) {
    read = Status::Internal("the pipeline stopped reading the rows of {} before their end", options_.What());
  }
  StreamedPart part;
  part.rows = stream_->rows();
  // The ranges are consecutive: the chunk's keys run from the first one the first non-empty
  // range read to the last one the last non-empty range read.
  uint64_t bytes = 0;
  size_t connections = streamed_copies_.size();
  if (!streamed_copies_.empty()) part.last_range_rows = streamed_copies_.back()->rows();
  for (const auto* copy : streamed_copies_) {
    if (!part.first_key) part.first_key = copy->first_value();
    if (copy->last_value()) part.last_key = copy->last_value();
    bytes += copy->bytes();
  }
  streamed_copies_.clear();
  stream_.reset();
  if (!read.ok()) {
    return read.WithContext(
        "reading {} from PostgreSQL {}{}", options_.What(), s_.client->endpoint(),
        connections > 1 ? fmt::format(" over {} connections, each counting its own rows", connections) : "");
  }
  SLUICE_TRY(consumed);
  streamed_rows_ += part.rows;
  spdlog::debug("postgres source of job '{}': streamed {} rows ({}, {} so far)", options_.job, part.rows,
                HumanBytes(bytes), streamed_rows_);
  return part;
}

Result<ReadState> PostgresReader::PartConsumed(Status consumed) {
  if (stream_ == nullptr) return SourceReader::PartConsumed(std::move(consumed));
  SLUICE_TRY(EndStream(std::move(consumed)).status());
  return ReadState::kFinished;
}

}  // namespace sluice::connectors::pg_source
