#pragma once

// Decoding of the logical replication stream: the walsender's CopyData frames (XLogData,
// primary keepalive) and, inside XLogData, pgoutput's messages (protocol version 1, text tuple
// data). Pure code over bytes that came from the network: every read is bounds-checked and a
// malformed message is a DataError, never a read past its end.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.hpp"

namespace sluice::postgres {

/// A WAL position (pg_lsn) as its 64-bit value.
struct Lsn {
  uint64_t value = 0;
  friend auto operator<=>(const Lsn&, const Lsn&) = default;
};

/// "16/B374D848", PostgreSQL's notation.
std::string FormatLsn(Lsn lsn);
/// Parses PostgreSQL's notation ("16/B374D848").
Result<Lsn> ParseLsn(std::string_view text);

/// Microseconds since 2000-01-01 00:00:00 UTC (PostgreSQL's epoch) → since 1970-01-01.
inline constexpr int64_t kPgEpochOffsetMicros = 946684800LL * 1000000LL;

// ---- the walsender's frames (the payload of each CopyData of START_REPLICATION) ----

/// 'w': WAL data starting at `start`; `payload` is one pgoutput message.
struct XLogData {
  Lsn start;
  Lsn wal_end;
  int64_t send_time_us = 0;  // PostgreSQL epoch
  std::string_view payload;  // points into the decoded buffer
};

/// 'k': the server's WAL end; answer at once when `reply_requested`.
struct PrimaryKeepalive {
  Lsn wal_end;
  int64_t send_time_us = 0;
  bool reply_requested = false;
};

using ReplicationFrame = std::variant<XLogData, PrimaryKeepalive>;

/// Decodes one CopyData frame of the replication stream; `bytes` must outlive the result.
Result<ReplicationFrame> DecodeReplicationFrame(std::string_view bytes);

/// The standby status update ('r') that reports how far the client has written, flushed and
/// applied; `now_us` in PostgreSQL's epoch.
std::string EncodeStandbyStatus(Lsn write, Lsn flush, Lsn apply, int64_t now_us, bool reply_requested);

// ---- pgoutput messages ----

/// How a column value is sent in a tuple: NULL, an unchanged TOASTed value whose bytes are not
/// sent, or its text form.
enum class TupleValueKind : char { kNull = 'n', kUnchangedToast = 'u', kText = 't' };

struct TupleValue {
  TupleValueKind kind = TupleValueKind::kNull;
  std::string text;  // kText only
};
using Tuple = std::vector<TupleValue>;

struct BeginMessage {
  Lsn final_lsn;               // the commit record's LSN
  int64_t commit_time_us = 0;  // PostgreSQL epoch
  uint32_t xid = 0;
};

struct CommitMessage {
  uint8_t flags = 0;
  Lsn commit_lsn;
  Lsn end_lsn;  // end of the commit record: where a restart after this transaction begins
  int64_t commit_time_us = 0;
};

struct OriginMessage {
  Lsn commit_lsn;
  std::string name;
};

struct RelationColumn {
  bool key = false;  // part of the replica identity
  std::string name;
  uint32_t type_oid = 0;
  int32_t type_modifier = -1;
};

struct RelationMessage {
  uint32_t oid = 0;
  std::string schema;  // "" stands for pg_catalog
  std::string name;
  char replica_identity = 'd';  // d(efault: primary key), n(othing), f(ull), i(ndex)
  std::vector<RelationColumn> columns;
};

struct TypeMessage {
  uint32_t oid = 0;
  std::string schema;
  std::string name;
};

struct InsertMessage {
  uint32_t relation = 0;
  Tuple new_tuple;
};

/// `old_kind` 'K' (the old key only), 'O' (the whole old row, REPLICA IDENTITY FULL) or 0 (no old
/// tuple: the key did not change and the identity is not FULL).
struct UpdateMessage {
  uint32_t relation = 0;
  char old_kind = 0;
  Tuple old_tuple;
  Tuple new_tuple;
};

struct DeleteMessage {
  uint32_t relation = 0;
  char old_kind = 'K';
  Tuple old_tuple;
};

struct TruncateMessage {
  bool cascade = false;
  bool restart_identity = false;
  std::vector<uint32_t> relations;
};

/// pg_logical_emit_message(); non-transactional ones arrive outside Begin/Commit.
struct LogicalMessage {
  bool transactional = false;
  Lsn lsn;
  std::string prefix;
  std::string content;
};

using PgOutputMessage = std::variant<BeginMessage, CommitMessage, OriginMessage, RelationMessage, TypeMessage,
                                     InsertMessage, UpdateMessage, DeleteMessage, TruncateMessage, LogicalMessage>;

/// Limits against hostile input: a tuple may have at most this many columns (PostgreSQL's own
/// limit is 1664), and a truncate at most this many relations.
inline constexpr int kMaxTupleColumns = 1664;

/// Decodes one pgoutput message (protocol version 1). Binary tuple data ('b') is refused: sluice
/// asks for text.
Result<PgOutputMessage> DecodePgOutput(std::string_view bytes);

/// The message's type byte as a name, for errors ("Insert").
std::string_view PgOutputMessageName(const PgOutputMessage& message);

}  // namespace sluice::postgres
