#include "connectors/postgres/pg_replication.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <cstdlib>

#include "connectors/postgres/pg_text_values.hpp"

namespace sluice::postgres {

int64_t PgEpochNowMicros() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::microseconds>(now).count() - kPgEpochOffsetMicros;
}

Result<std::unique_ptr<ReplicationConnection>> ReplicationConnection::Connect(std::string_view url,
                                                                              const std::optional<Secret>& password,
                                                                              ConnectOptions options) {
  options.replication = "database";
  options.server_options = kTextOutputSettings;  // pgoutput prints values in the walsender's session settings
  SLUICE_ASSIGN_OR_RETURN(auto client, PgClient::Connect(url, password, options));
  return std::unique_ptr<ReplicationConnection>(new ReplicationConnection(std::move(client)));
}

ReplicationConnection::~ReplicationConnection() {
  if (streaming_) {
    // Ends the COPY politely so the walsender releases the slot at once; PQfinish follows.
    (void)PQputCopyEnd(client_->raw(), nullptr);
    (void)PQflush(client_->raw());
  }
}

Result<TextRows> ReplicationConnection::Command(std::string_view command) {
  PgResult result(PQexec(client_->raw(), std::string(command).c_str()));
  ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    return client_->ResultError(result.get(), fmt::format("replication command '{}'", command.substr(0, 200)));
  }
  TextRows out;
  int columns = PQnfields(result.get());
  for (int c = 0; c < columns; ++c) out.column_names.emplace_back(PQfname(result.get(), c));
  for (int r = 0; r < PQntuples(result.get()); ++r) {
    std::vector<std::optional<std::string>> row(static_cast<size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      if (!PQgetisnull(result.get(), r, c)) row[static_cast<size_t>(c)] = PQgetvalue(result.get(), r, c);
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

Result<ReplicationSystem> ReplicationConnection::IdentifySystem() {
  SLUICE_ASSIGN_OR_RETURN(auto rows, Command("IDENTIFY_SYSTEM"));
  if (rows.rows.size() != 1)
    return Status::DataError("PostgreSQL {}: IDENTIFY_SYSTEM returned {} rows", endpoint(), rows.rows.size());
  ReplicationSystem system;
  system.system_id = rows.Get(0, "systemid");
  system.timeline = std::atoi(rows.Get(0, "timeline").c_str());
  SLUICE_ASSIGN_OR_RETURN(system.wal_position, ParseLsn(rows.Get(0, "xlogpos")));
  system.database = rows.Get(0, "dbname");
  return system;
}

Result<CreatedSlot> ReplicationConnection::CreateSlot(std::string_view slot) {
  std::string command =
      client_->server_version() >= 150000
          ? fmt::format("CREATE_REPLICATION_SLOT {} LOGICAL pgoutput (SNAPSHOT 'export')", QuoteIdent(slot))
          : fmt::format("CREATE_REPLICATION_SLOT {} LOGICAL pgoutput EXPORT_SNAPSHOT", QuoteIdent(slot));
  SLUICE_ASSIGN_OR_RETURN(auto rows, Command(command));
  if (rows.rows.size() != 1) {
    return Status::DataError("PostgreSQL {}: CREATE_REPLICATION_SLOT returned {} rows", endpoint(), rows.rows.size());
  }
  CreatedSlot created;
  created.name = rows.Get(0, "slot_name");
  SLUICE_ASSIGN_OR_RETURN(created.consistent_point, ParseLsn(rows.Get(0, "consistent_point")));
  created.snapshot = rows.Get(0, "snapshot_name");
  if (created.snapshot.empty()) {
    return Status::DataError("PostgreSQL {}: CREATE_REPLICATION_SLOT exported no snapshot", endpoint());
  }
  return created;
}

Status ReplicationConnection::StartStreaming(std::string_view slot, Lsn start, std::string_view publication) {
  std::string command = fmt::format("START_REPLICATION SLOT {} LOGICAL {} (proto_version '1', publication_names {})",
                                    QuoteIdent(slot), FormatLsn(start), QuoteLiteral(QuoteIdent(publication)));
  PgResult result(PQexec(client_->raw(), command.c_str()));
  if (PQresultStatus(result.get()) == PGRES_COPY_BOTH) {
    streaming_ = true;
    return Status::OK();
  }
  Status failed = client_->ResultError(result.get(), fmt::format("START_REPLICATION of slot '{}'", slot));
  const char* sqlstate = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
  if (sqlstate != nullptr && std::string_view(sqlstate) == kSlotActiveSqlState) {
    return Status::Conflict("{}", failed.message());
  }
  return failed;
}

Result<std::optional<std::string>> ReplicationConnection::Receive(std::chrono::milliseconds wait) {
  pg_conn* conn = client_->raw();
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    char* buffer = nullptr;
    int n = PQgetCopyData(conn, &buffer, /*async=*/1);
    if (n > 0) {
      std::string frame(buffer, static_cast<size_t>(n));
      PQfreemem(buffer);
      return std::optional<std::string>(std::move(frame));
    }
    if (n == -1) {  // the server ended the stream: its reason is in the result
      streaming_ = false;
      PgResult result(PQgetResult(conn));
      if (PQresultStatus(result.get()) == PGRES_FATAL_ERROR)
        return client_->ResultError(result.get(), "replication stream");
      return Status::Unavailable("PostgreSQL {}: the server ended the replication stream", endpoint());
    }
    if (n == -2) return client_->ConnectionError("reading the replication stream");
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::optional<std::string>();
    pollfd fd{PQsocket(conn), POLLIN, 0};
    int ready = poll(&fd, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR)
      return Status::IoError("PostgreSQL {}: waiting for the replication stream failed", endpoint());
    if (ready > 0 && PQconsumeInput(conn) == 0) return client_->ConnectionError("reading the replication stream");
  }
}

Status ReplicationConnection::SendStatus(Lsn write, Lsn flush, bool reply_requested) {
  std::string message = EncodeStandbyStatus(write, flush, flush, PgEpochNowMicros(), reply_requested);
  pg_conn* conn = client_->raw();
  if (PQputCopyData(conn, message.data(), static_cast<int>(message.size())) != 1 || PQflush(conn) != 0) {
    return client_->ConnectionError("sending the standby status update");
  }
  return Status::OK();
}

}  // namespace sluice::postgres
