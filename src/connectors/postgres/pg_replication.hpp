#pragma once

// The client side of PostgreSQL's logical replication protocol over libpq: a walsender
// connection (replication=database) that creates slots, starts streaming a slot with pgoutput and
// exchanges CopyData frames (decoded by pgoutput_decoder).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "connectors/postgres/pg_client.hpp"
#include "connectors/postgres/pgoutput_decoder.hpp"

namespace sluice::postgres {

struct ReplicationSystem {
  std::string system_id;
  int timeline = 0;
  Lsn wal_position;  // the server's current WAL flush position
  std::string database;
};

struct CreatedSlot {
  std::string name;
  Lsn consistent_point;  // streaming from here continues exactly where the snapshot ends
  std::string snapshot;  // exported snapshot id; valid while this connection runs no other command
};

/// SQLSTATE 55006 (object in use): START_REPLICATION of a slot another process is streaming.
inline constexpr std::string_view kSlotActiveSqlState = "55006";

class ReplicationConnection {
 public:
  /// Opens a replication=database connection (the user needs the REPLICATION attribute).
  static Result<std::unique_ptr<ReplicationConnection>> Connect(std::string_view url,
                                                                const std::optional<Secret>& password,
                                                                ConnectOptions options);
  ~ReplicationConnection();

  const std::string& endpoint() const { return client_->endpoint(); }

  /// A replication command or simple SQL query (walsenders accept only the simple protocol).
  Result<TextRows> Command(std::string_view command);
  Result<ReplicationSystem> IdentifySystem();
  /// CREATE_REPLICATION_SLOT … LOGICAL pgoutput, exporting a snapshot (PostgreSQL 15 syntax;
  /// EXPORT_SNAPSHOT before 15). The snapshot lives until the next command on this connection.
  Result<CreatedSlot> CreateSlot(std::string_view slot);
  /// START_REPLICATION SLOT … LOGICAL start (proto_version '1', publication_names '…'). A slot
  /// streamed by another process fails with a Conflict naming kSlotActiveSqlState.
  Status StartStreaming(std::string_view slot, Lsn start, std::string_view publication);
  /// The next CopyData frame of the stream, waiting up to `wait`; nullopt when none came in time.
  /// The end of the stream or a broken connection is an error.
  Result<std::optional<std::string>> Receive(std::chrono::milliseconds wait);
  /// Standby status update: received up to `write`, durable (committed to the lake) up to `flush`.
  Status SendStatus(Lsn write, Lsn flush, bool reply_requested = false);

 private:
  explicit ReplicationConnection(std::unique_ptr<PgClient> client) : client_(std::move(client)) {}

  std::unique_ptr<PgClient> client_;
  bool streaming_ = false;
};

/// Microseconds since PostgreSQL's epoch (2000-01-01), now.
int64_t PgEpochNowMicros();

}  // namespace sluice::postgres
