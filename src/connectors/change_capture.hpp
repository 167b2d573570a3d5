#pragma once

// mode: cdc — a source that follows a database's change log. The pipeline drives it: Start()
// (slot, publication, and a snapshot when the tables must be copied first), the copy through the
// source's ordinary full-load reader in that snapshot, then ReadBatch() micro-batches whose rows
// and end position the pipeline commits together, and Confirm() of a position only after its
// commit. Connectors never touch the catalog: the state travels as opaque JSON.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "engine/engine.hpp"

namespace sluice::connectors {

/// One source table a change capture follows and the lake table it lands in.
struct CapturedTable {
  std::string source;            // "public.orders"
  std::string lake_table;        // "orders"
  std::vector<std::string> key;  // the row's identity (primary key or replica identity index); empty = none
};

/// The change-record columns every captured row carries besides the table's own.
inline constexpr const char* kChangeTypeColumn = "_change_type";  // snapshot | insert | update | delete | truncate
inline constexpr const char* kChangeLsnColumn = "_lsn";           // BIGINT: the change's own WAL position
inline constexpr const char* kCommitTsColumn = "_commit_ts";      // TIMESTAMPTZ of the transaction's commit
inline constexpr const char* kTxidColumn = "_txid";               // BIGINT transaction id
/// VARCHAR[]: columns whose value the source did not send because it did not change (PostgreSQL's
/// unchanged TOAST values); the pipeline fills them from the row's previous value and drops this column.
inline constexpr const char* kUnchangedColumn = "_sluice_unchanged";

struct CaptureStart {
  /// The tables must be copied before streaming (a new slot, or a copy an earlier run left unfinished).
  bool copy = false;
  /// The copy was begun by an earlier run whose exported snapshot died with it: the tables it had
  /// not finished are read in snapshots of their own, later than the slot's consistent point.
  bool resumed = false;
  /// A new slot's exported snapshot the copy reads in (valid until StartStreaming()); "" when resumed.
  std::string snapshot;
  /// The state to commit before the copy's first data: the slot exists (sluice made it) and its
  /// consistent point, not yet copied. A run after a crash resumes the copy from it.
  std::string copying_state_json;
  /// The state to commit once the copy is done (streaming then starts at the slot's consistent point).
  std::string copied_state_json;
  std::vector<std::string> warnings;  // e.g. a table without a usable replica identity
};

struct ChangeBatchTable {
  std::string lake_table;
  std::string relation;  // engine temp table: the table's columns (typed), the change columns, kUnchangedColumn
  std::vector<std::string> key;
  int64_t rows = 0;
  bool has_unchanged = false;  // some row has a column in kUnchangedColumn
};

/// One micro-batch: rows of whole committed transactions and the state that reaches past them.
struct ChangeBatch {
  std::vector<ChangeBatchTable> tables;
  std::string state_json;  // commit this with the rows; Confirm() it after the commit
  int64_t rows = 0;
  int64_t bytes = 0;
  /// Only the position moved (idle tables, skipped transactions): nothing to write.
  bool position_only = false;
  /// Everything up to the stop position (the server's WAL position when streaming began) is in
  /// this batch or before: a run without --follow ends after committing it.
  bool caught_up = false;
};

struct BatchLimits {
  std::chrono::milliseconds max_wait{10000};  // commit_every
  int64_t max_rows = 100000;
  int64_t max_bytes = 64ll << 20;
  bool follow = false;                      // false: stop once caught up with the stop position
  const std::atomic<bool>* stop = nullptr;  // set: end the batch at the next transaction boundary
};

/// Below this much WAL left before max_slot_wal_keep_size invalidates a slot, runs and status warn.
inline constexpr int64_t kLowSafeWalBytes = 1ll << 30;

/// `sluice cdc status`: the slot as the server sees it.
struct SlotHealth {
  std::string slot, publication, plugin;
  bool exists = false;
  bool active = false;
  std::string active_pid;
  std::string confirmed_flush_lsn, current_wal_lsn;
  int64_t lag_bytes = 0;
  /// From the committed state: the position the lake reaches, and the source time (unix µs) up to
  /// which it holds every change (0 = unknown: not copied yet).
  std::string committed_lsn;
  int64_t as_of_us = 0;
  /// How far behind the source the lake is, in seconds: 0 when the server has written no WAL past
  /// the committed position, else the server's clock now minus as_of; none while unknown.
  std::optional<double> lag_seconds;
  std::string wal_status;                // reserved | extended | unreserved | lost
  std::optional<int64_t> safe_wal_size;  // bytes before max_slot_wal_keep_size invalidates the slot; none = no limit
};

class ChangeCapture {
 public:
  virtual ~ChangeCapture() = default;
  virtual const std::vector<CapturedTable>& tables() const = 0;
  /// commit_every, max_rows and max_bytes as configured (follow and stop unset).
  virtual BatchLimits Limits() const = 0;
  /// "slot sluice_shop on 127.0.0.1:5432/shop", for messages.
  virtual std::string Describe() const = 0;
  /// Prepares slot and publication from the committed state ("" = none yet). `full_refresh`
  /// recreates the slot and copies again.
  virtual Result<CaptureStart> Start(const std::string& state_json, bool full_refresh) = 0;
  /// Ends the copy's snapshot and streams from the committed (or copied) state.
  virtual Status StartStreaming(const std::string& state_json) = 0;
  /// Reads whole transactions into per-table engine relations until a limit, the stop position or
  /// the stop flag. The relations are temporary objects of `connection`: an earlier batch's are
  /// dropped when a later batch is read on the same connection, and a batch read on another
  /// connection stays whole (and that connection untouched) meanwhile — so the pipeline may write
  /// one batch while it reads the next. Not thread-safe with Confirm().
  virtual Result<ChangeBatch> ReadBatch(engine::Connection& connection, const BatchLimits& limits) = 0;
  /// Tells the server that everything up to `state_json`'s position is durable (committed).
  virtual Status Confirm(const std::string& state_json) = 0;
  /// The slot's health (no streaming needed), with the lag of `state_json` (the committed state).
  virtual Result<SlotHealth> Health(const std::string& state_json) = 0;
  /// Drops the slot and publication `state_json` says sluice created; refuses while the slot is
  /// active. Returns what it dropped, for the message.
  virtual Result<std::vector<std::string>> Drop(const std::string& state_json) = 0;
};

}  // namespace sluice::connectors
