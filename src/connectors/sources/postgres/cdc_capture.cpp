#include "connectors/sources/postgres/cdc_capture.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <thread>

#include "common/strings.hpp"
#include "connectors/postgres/pg_replication.hpp"
#include "connectors/postgres/pg_types.hpp"
#include "connectors/sources/postgres/cdc_slot.hpp"
#include "connectors/sources/postgres/cdc_table_buffer.hpp"

namespace sluice::connectors::pgcdc {

using postgres::Lsn;

namespace {

using Clock = std::chrono::steady_clock;

/// A relation the stream announced: which captured table it is (or none) and its columns.
struct KnownRelation {
  std::string schema, name;
  int table = -1;  // index into buffers_, -1 = not captured
  std::vector<postgres::RelationColumn> columns;
};

class PgChangeCapture final : public ChangeCapture {
 public:
  explicit PgChangeCapture(CdcOptions options) : o_(std::move(options)) {}

  const std::vector<CapturedTable>& tables() const override { return o_.tables; }

  BatchLimits Limits() const override {
    BatchLimits limits;
    limits.max_wait = o_.commit_every;
    limits.max_rows = o_.max_rows;
    limits.max_bytes = o_.max_bytes;
    return limits;
  }

  std::string Describe() const override {
    return fmt::format("slot '{}' of connection '{}'", o_.slot, o_.connection.empty() ? o_.url : o_.connection);
  }

  Result<CaptureStart> Start(const std::string& state_json, bool full_refresh) override {
    SLUICE_ASSIGN_OR_RETURN(auto state, CdcState::Parse(state_json));
    if (!state.slot.empty() && state.slot != o_.slot && !full_refresh) {
      return Status::Invalid(
          "{}: cdc: slot is now '{}' but pipeline '{}' streamed from slot '{}'; run `sluice run {} --full-refresh` to "
          "copy "
          "the tables again from the new slot (then `sluice cdc drop` is no longer needed for the old one: drop it "
          "with "
          "SELECT pg_drop_replication_slot('{}'))",
          o_.location.ToString(), o_.slot, o_.pipeline, state.slot, o_.pipeline, state.slot);
    }
    SLUICE_TRY(ConnectSql());
    SLUICE_ASSIGN_OR_RETURN(auto wal_level, sql_->Query("SHOW wal_level"));
    if (wal_level.rows.empty() || wal_level.Get(0, "wal_level") != "logical") {
      return Status::Invalid(
          "PostgreSQL {}: wal_level is '{}', change data capture needs 'logical': set wal_level = logical in "
          "postgresql.conf and restart the server (docs/connectors/postgres-cdc.md)",
          sql_->endpoint(), wal_level.Get(0, "wal_level"));
    }
    CaptureStart start;
    SLUICE_TRY(ReadKeys(&start.warnings));
    state.slot = o_.slot;
    state.publication = o_.publication;
    SLUICE_TRY(EnsurePublication(*sql_, o_, &state));

    SLUICE_ASSIGN_OR_RETURN(auto slot, InactiveSlotRow());
    bool exists = !slot.rows.empty();
    bool copying = !full_refresh && !state.copied && state.created_slot && state.lsn != 0;
    if (exists && slot.Get(0, "wal_status") == "lost" && !full_refresh && !copying) {
      return ResnapshotNeeded(
          fmt::format("slot '{}' was invalidated by the server (wal_status lost: it fell behind "
                      "more than max_slot_wal_keep_size)",
                      o_.slot));
    }
    if (!full_refresh && state.copied) {
      if (!exists) {
        return ResnapshotNeeded(
            fmt::format("slot '{}' no longer exists on {} (dropped outside sluice?)", o_.slot, sql_->endpoint()));
      }
      if (slot.Get(0, "plugin") != "pgoutput") {
        return Status::Invalid(
            "slot '{}' on {} uses plugin '{}'; sluice reads pgoutput slots: name another slot in cdc: slot", o_.slot,
            sql_->endpoint(), slot.Get(0, "plugin"));
      }
      if (std::string safe = slot.Get(0, "safe_wal_size"); !safe.empty()) {
        int64_t left = std::max<int64_t>(0, std::strtoll(safe.c_str(), nullptr, 10));
        if (left < kLowSafeWalBytes) {
          std::string warning = fmt::format(
              "slot '{}' has only {} of WAL left before max_slot_wal_keep_size invalidates it (then the tables must be "
              "copied again): keep pipeline '{}' running, or raise max_slot_wal_keep_size",
              o_.slot, HumanBytes(static_cast<uint64_t>(left)), o_.pipeline);
          spdlog::warn("pipeline '{}': {}", o_.pipeline, warning);
          start.warnings.push_back(warning);
        }
      }
      state_ = state;
      return start;
    }
    // A copy an earlier run began from a slot it created: the slot still holds the WAL from its
    // consistent point, so the tables not yet copied are read now and streaming starts there.
    if (copying) {
      if (exists && slot.Get(0, "wal_status") != "lost" && slot.Get(0, "plugin") == "pgoutput") {
        if (slot.Get(0, "active") == "t") return SlotActive(slot.Get(0, "active_pid"));
        start.copy = true;
        start.resumed = true;
        start.copying_state_json = state.ToJson();
        CdcState copied = state;
        copied.copied = true;
        start.copied_state_json = copied.ToJson();
        state_ = state;
        spdlog::info(
            "pipeline '{}': resuming the interrupted copy; streaming will start at slot '{}''s consistent point {}",
            o_.pipeline, o_.slot, postgres::FormatLsn(Lsn{state.lsn}));
        return start;
      }
      spdlog::warn("pipeline '{}': the interrupted copy cannot be resumed (slot '{}' is {}); copying from a new slot",
                   o_.pipeline, o_.slot, exists ? "invalidated or not pgoutput" : "gone");
    }
    // A copy starts from a slot created now: its exported snapshot and consistent point meet exactly.
    if (exists) {
      if (slot.Get(0, "active") == "t") return SlotActive(slot.Get(0, "active_pid"));
      if (!state.created_slot && !full_refresh) {
        return Status::Invalid(
            "slot '{}' already exists on {} but sluice did not create it; the first run copies the tables from the "
            "snapshot of a slot it creates: drop that slot (SELECT pg_drop_replication_slot('{}')), name another one "
            "in "
            "cdc: slot, or run with --full-refresh to have sluice drop and recreate it",
            o_.slot, sql_->endpoint(), o_.slot);
      }
      SLUICE_TRY(sql_->QueryParams("SELECT pg_drop_replication_slot($1)", {o_.slot}).status());
      spdlog::info("pipeline '{}': dropped slot '{}' to copy the tables again", o_.pipeline, o_.slot);
    }
    SLUICE_TRY(ConnectReplication());
    // Every transaction committed before this moment is in the slot's snapshot.
    SLUICE_ASSIGN_OR_RETURN(auto before, Probe());
    SLUICE_ASSIGN_OR_RETURN(auto created, repl_->CreateSlot(o_.slot));
    state.created_slot = true;
    state.copied = false;
    state.lsn = created.consistent_point.value;
    state.as_of_us = before.second;
    start.copy = true;
    start.snapshot = created.snapshot;
    start.copying_state_json = state.ToJson();
    state.copied = true;
    start.copied_state_json = state.ToJson();
    state_ = state;
    spdlog::info("pipeline '{}': created slot '{}' at {}; copying {} table(s) from its snapshot", o_.pipeline, o_.slot,
                 postgres::FormatLsn(created.consistent_point), o_.tables.size());
    return start;
  }

  Status StartStreaming(const std::string& state_json) override {
    SLUICE_ASSIGN_OR_RETURN(auto state, CdcState::Parse(state_json));
    if (!sql_) SLUICE_TRY(ConnectSql());
    if (o_.tables.front().key.empty() && key_read_ == false) SLUICE_TRY(ReadKeys(nullptr));
    // The insert position: with asynchronous commit a committed transaction may not be written
    // yet, and pg_current_wal_lsn() (the write position) would stop the run before it.
    SLUICE_ASSIGN_OR_RETURN(auto probe, Probe());
    stop_at_ = probe.first;
    probe_ = probe;
    as_of_us_ = state.as_of_us;
    if (!repl_) SLUICE_TRY(ConnectReplication());
    state_.created_slot |= state.created_slot;
    state_.created_publication |= state.created_publication;
    committed_ = Lsn{state.lsn};
    confirmed_ = committed_;
    received_ = committed_;
    SLUICE_TRY(InactiveSlotRow().status());
    Status started = repl_->StartStreaming(o_.slot, committed_, o_.publication);
    if (!started.ok()) {
      if (started.code() == StatusCode::kConflict) {
        auto slot = SlotRow();
        return SlotActive(slot.ok() ? slot->Get(0, "active_pid") : "?");
      }
      return started.WithContext("pipeline '{}'", o_.pipeline);
    }
    last_status_ = Clock::now();
    ResolveProbe();
    spdlog::info("pipeline '{}': streaming slot '{}' from {} (server WAL at {})", o_.pipeline, o_.slot,
                 postgres::FormatLsn(committed_), postgres::FormatLsn(stop_at_));
    return Status::OK();
  }

  Result<ChangeBatch> ReadBatch(engine::Connection& connection, const BatchLimits& limits) override {
    if (buffers_.empty()) {
      for (size_t i = 0; i < o_.tables.size(); ++i) {
        buffers_.push_back(std::make_unique<TableBuffer>(o_.tables[i], fmt::format("cdc_batch_{}", i)));
      }
    }
    for (auto& b : buffers_) SLUICE_TRY(b->Reset(connection));
    ChangeBatch batch;
    Lsn batch_start = received_;
    int64_t batch_start_as_of = as_of_us_;
    auto deadline = Clock::now() + limits.max_wait;
    std::optional<Lsn> asked_keepalive;  // wal_end of the last keepalive
    Clock::time_point quiet_since = Clock::now();
    bool data_since_ask = false;
    for (;;) {
      if (!o_.heartbeat_sql.empty() && (!last_heartbeat_ || Clock::now() - *last_heartbeat_ >= o_.heartbeat_every)) {
        SLUICE_TRY(Heartbeat());
      }
      if (!in_txn_) {
        bool stop = limits.stop != nullptr && limits.stop->load();
        if (!limits.follow && received_ >= stop_at_) batch.caught_up = true;
        if (batch.caught_up || stop || batch.rows >= limits.max_rows || batch.bytes >= limits.max_bytes ||
            Clock::now() >= deadline) {
          break;
        }
      }
      if (Clock::now() - last_status_ > std::chrono::seconds(5)) SLUICE_TRY(SendStatus(false));
      SLUICE_ASSIGN_OR_RETURN(auto frame, repl_->Receive(std::chrono::milliseconds(100)));
      if (!frame) {
        // Quiet: ask the server where it is, so a run without --follow learns it has caught up
        // (and idle tables move the position) without waiting for the next scheduled keepalive.
        auto every = limits.follow ? std::chrono::milliseconds(1000) : std::chrono::milliseconds(100);
        if (!in_txn_ && Clock::now() - last_ask_ >= every) {
          last_ask_ = Clock::now();
          if (!probe_ && Clock::now() - last_probe_ >= std::chrono::seconds(1)) {
            SLUICE_ASSIGN_OR_RETURN(auto probe, Probe());
            probe_ = probe;
          }
          SLUICE_TRY(SendStatus(true));
        }
        continue;
      }
      SLUICE_ASSIGN_OR_RETURN(auto decoded, postgres::DecodeReplicationFrame(*frame));
      if (const auto* keepalive = std::get_if<postgres::PrimaryKeepalive>(&decoded)) {
        if (!in_txn_) {
          if (keepalive->wal_end > received_) received_ = keepalive->wal_end;
          ResolveProbe();
          // The server stays at one position below the stop position (WAL written but never
          // decodable up to it): after a while with nothing in between, there is nothing more.
          if (!asked_keepalive || *asked_keepalive != keepalive->wal_end || data_since_ask) {
            asked_keepalive = keepalive->wal_end;
            quiet_since = Clock::now();
          } else if (!limits.follow && Clock::now() - quiet_since > std::chrono::seconds(5)) {
            batch.caught_up = true;
          }
          data_since_ask = false;
        }
        if (keepalive->reply_requested) SLUICE_TRY(SendStatus(false));
        continue;
      }
      data_since_ask = true;
      const auto& data = std::get<postgres::XLogData>(decoded);
      auto message = postgres::DecodePgOutput(data.payload);
      if (!message.ok()) {
        return message.status().WithContext("pipeline '{}', slot '{}', WAL position {}", o_.pipeline, o_.slot,
                                            postgres::FormatLsn(data.start));
      }
      SLUICE_ASSIGN_OR_RETURN(int64_t bytes, Apply(connection, data.start, *message));
      if (bytes > 0) {
        batch.rows += 1;
        batch.bytes += bytes;
      }
    }
    for (auto& b : buffers_) {
      if (b->rows() > 0) {
        SLUICE_ASSIGN_OR_RETURN(auto table, b->Finish(connection));
        batch.tables.push_back(std::move(table));
      }
      SLUICE_TRY(b->Seal());
    }
    CdcState state = CurrentState();
    state.lsn = received_.value;
    batch.state_json = state.ToJson();
    // Idle: the position moved, or the lake is now known complete up to a later time (lag in seconds).
    batch.position_only = batch.rows == 0 && (received_ > batch_start || as_of_us_ > batch_start_as_of);
    return batch;
  }

  Status Confirm(const std::string& state_json) override {
    SLUICE_ASSIGN_OR_RETURN(auto state, CdcState::Parse(state_json));
    committed_ = Lsn{state.lsn};
    if (committed_ > confirmed_) confirmed_ = committed_;
    return SendStatus(false);
  }

  Result<SlotHealth> Health(const std::string& state_json) override {
    SLUICE_ASSIGN_OR_RETURN(auto state, CdcState::Parse(state_json));
    SLUICE_TRY(ConnectSql());
    return QuerySlotHealth(*sql_, o_, state);
  }

  Result<std::vector<std::string>> Drop(const std::string& state_json) override {
    SLUICE_ASSIGN_OR_RETURN(auto state, CdcState::Parse(state_json));
    SLUICE_TRY(ConnectSql());
    std::vector<std::string> dropped;
    std::string slot = state.slot.empty() ? o_.slot : state.slot;
    std::string publication = state.publication.empty() ? o_.publication : state.publication;
    if (slot == o_.slot) SLUICE_TRY(InactiveSlotRow().status());
    SLUICE_ASSIGN_OR_RETURN(
        auto rows,
        sql_->QueryParams(
            "SELECT active, active_pid::text AS active_pid FROM pg_replication_slots WHERE slot_name = $1", {slot}));
    if (!rows.rows.empty() && rows.Get(0, "active") == "t") {
      return Status::Conflict(
          "slot '{}' of pipeline '{}' is in use (pid {}): stop the `sluice run {} --follow` (or the "
          "serve) following it first",
          slot, o_.pipeline, rows.Get(0, "active_pid"), o_.pipeline);
    }
    if (!rows.rows.empty() && state.created_slot) {
      SLUICE_TRY(sql_->QueryParams("SELECT pg_drop_replication_slot($1)", {slot}).status());
      dropped.push_back(fmt::format("slot {}", slot));
    }
    if (state.created_publication) {
      SLUICE_TRY(sql_->Execute(fmt::format("DROP PUBLICATION IF EXISTS {}", postgres::QuoteIdent(publication))));
      dropped.push_back(fmt::format("publication {}", publication));
    }
    return dropped;
  }

 private:
  Status ConnectSql() {
    if (sql_) return Status::OK();
    auto client = postgres::PgClient::Connect(o_.url, o_.password, o_.connect);
    if (!client.ok()) return WithConnection(client.status());
    sql_ = std::move(*client);
    return Status::OK();
  }

  Status ConnectReplication() {
    auto client = postgres::ReplicationConnection::Connect(o_.url, o_.password, o_.connect);
    if (!client.ok()) {
      Status st = WithConnection(client.status());
      if (st.message().find("permission") != std::string::npos ||
          st.message().find("replication") != std::string::npos) {
        st = st.WithContext(
            "a replication connection needs a user with the REPLICATION attribute (ALTER ROLE … "
            "REPLICATION) and a pg_hba.conf line allowing it");
      }
      return st;
    }
    repl_ = std::move(*client);
    return Status::OK();
  }

  Status WithConnection(const Status& st) const {
    return o_.connection.empty() ? st : st.WithContext("connection '{}'", o_.connection);
  }

  Status ResnapshotNeeded(const std::string& why) const {
    return Status::Invalid(
        "pipeline '{}': resnapshot needed: {}; changes since its last commit are lost to sluice. Run "
        "`sluice run {} --full-refresh` to create the slot again and copy the tables anew",
        o_.pipeline, why, o_.pipeline);
  }

  Status SlotActive(const std::string& pid) const {
    return Status::Conflict(
        "pipeline '{}' is already being followed by another process (slot '{}' active, pid {}); "
        "one consumer per slot: stop the other `sluice run {} --follow` or serve first",
        o_.pipeline, o_.slot, pid, o_.pipeline);
  }

  /// The slot's row once no process streams it, waiting up to 10 s: a follower that just died
  /// (kill -9) holds its slot until the server notices the closed connection.
  Result<postgres::TextRows> InactiveSlotRow() {
    auto deadline = Clock::now() + std::chrono::seconds(10);
    for (;;) {
      SLUICE_ASSIGN_OR_RETURN(auto slot, SlotRow());
      if (slot.rows.empty() || slot.Get(0, "active") != "t" || Clock::now() >= deadline) return slot;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }

  Result<postgres::TextRows> SlotRow() {
    return sql_->QueryParams(
        "SELECT plugin, active, active_pid::text AS active_pid, wal_status, safe_wal_size::text AS safe_wal_size "
        "FROM pg_replication_slots WHERE slot_name = $1",
        {o_.slot});
  }

  Status ReadKeys(std::vector<std::string>* warnings) {
    key_read_ = true;
    return ReadTableKeys(*sql_, &o_, warnings);
  }

  /// cdc: heartbeat: a write in the source database, so its walsender has WAL to decode and the
  /// slot advances while the captured tables are idle and other databases are busy.
  Status Heartbeat() {
    last_heartbeat_ = Clock::now();
    Status st = sql_->Execute(o_.heartbeat_sql);
    if (st.ok()) return st;
    return Status(
        st.code(),
        fmt::format("{}: cdc: heartbeat: sql of pipeline '{}' failed on {}: {}; fix the statement (it runs on "
                    "the source database every {} s while streaming) or remove heartbeat:",
                    o_.heartbeat_location.ToString(), o_.pipeline, sql_->endpoint(), st.message(),
                    o_.heartbeat_every.count() / 1000.0),
        st.retryable());
  }

  /// Where the server's WAL is and its clock: once everything before that position is received,
  /// every transaction committed before that time is.
  Result<std::pair<Lsn, int64_t>> Probe() {
    SLUICE_ASSIGN_OR_RETURN(
        auto wal,
        sql_->Query(fmt::format("SELECT pg_current_wal_insert_lsn()::text AS lsn, {} AS now_us", kServerNowUs)));
    SLUICE_ASSIGN_OR_RETURN(auto lsn, postgres::ParseLsn(wal.Get(0, "lsn")));
    last_probe_ = Clock::now();
    return std::make_pair(lsn, static_cast<int64_t>(std::strtoll(wal.Get(0, "now_us").c_str(), nullptr, 10)));
  }

  /// Between transactions: a probe the stream has passed moves as_of to its time.
  void ResolveProbe() {
    if (in_txn_ || !probe_ || received_ < probe_->first) return;
    as_of_us_ = std::max(as_of_us_, probe_->second);
    probe_.reset();
  }

  CdcState CurrentState() const {
    CdcState s = state_;
    s.as_of_us = as_of_us_;
    s.slot = o_.slot;
    s.publication = o_.publication;
    s.copied = true;
    return s;
  }

  Status SendStatus(bool reply_requested) {
    last_status_ = Clock::now();
    return repl_->SendStatus(received_, confirmed_, reply_requested);
  }

  /// Applies one pgoutput message; returns the bytes of the change row it buffered (0 = none).
  Result<int64_t> Apply(engine::Connection& connection, Lsn at, const postgres::PgOutputMessage& message) {
    using namespace postgres;
    if (const auto* begin = std::get_if<BeginMessage>(&message)) {
      in_txn_ = true;
      txn_ = *begin;
      // Committed before the stored position: already in the lake (a resent transaction).
      skip_txn_ = begin->final_lsn < committed_;
      return 0;
    }
    if (const auto* commit = std::get_if<CommitMessage>(&message)) {
      in_txn_ = false;
      if (commit->end_lsn > received_) received_ = commit->end_lsn;
      as_of_us_ = std::max(as_of_us_, commit->commit_time_us + kPgEpochOffsetMicros);
      ResolveProbe();
      return 0;
    }
    if (const auto* relation = std::get_if<RelationMessage>(&message)) {
      SLUICE_TRY(OnRelation(connection, *relation));
      return 0;
    }
    if (skip_txn_) return 0;
    ChangeRow row;
    row.lsn = at;
    row.commit_time_unix_us = txn_.commit_time_us + kPgEpochOffsetMicros;
    row.xid = txn_.xid;
    uint32_t oid = 0;
    if (const auto* insert = std::get_if<InsertMessage>(&message)) {
      oid = insert->relation;
      row.change_type = "insert";
      row.values = &insert->new_tuple;
    } else if (const auto* update = std::get_if<UpdateMessage>(&message)) {
      oid = update->relation;
      row.change_type = "update";
      row.values = &update->new_tuple;
      if (update->old_kind == 'O') row.old_values = &update->old_tuple;
    } else if (const auto* del = std::get_if<DeleteMessage>(&message)) {
      oid = del->relation;
      row.change_type = "delete";
      row.values = &del->old_tuple;  // the key (or the whole old row with REPLICA IDENTITY FULL)
    } else if (const auto* truncate = std::get_if<TruncateMessage>(&message)) {
      int64_t bytes = 0;
      row.change_type = "truncate";
      for (uint32_t r : truncate->relations) {
        auto it = relations_.find(r);
        if (it == relations_.end() || it->second.table < 0) continue;
        SLUICE_ASSIGN_OR_RETURN(int64_t b, buffers_[it->second.table]->Append(connection, row));
        bytes += b;
      }
      return bytes;
    } else {
      return 0;  // Origin, Type, Message: nothing to land
    }
    auto it = relations_.find(oid);
    if (it == relations_.end()) {
      return Status::DataError(
          "pipeline '{}': a change at {} names relation {} before any Relation message announced it", o_.pipeline,
          FormatLsn(at), oid);
    }
    if (it->second.table < 0) return 0;
    return buffers_[it->second.table]->Append(connection, row);
  }

  Status OnRelation(engine::Connection& connection, const postgres::RelationMessage& relation) {
    KnownRelation known;
    known.schema = relation.schema.empty() ? "pg_catalog" : relation.schema;
    known.name = relation.name;
    known.columns = relation.columns;
    std::string full = known.schema + "." + known.name;
    for (size_t i = 0; i < o_.tables.size(); ++i) {
      if (o_.tables[i].source == full) known.table = static_cast<int>(i);
    }
    auto previous = relations_.find(relation.oid);
    bool same = previous != relations_.end() && previous->second.table == known.table &&
                previous->second.columns.size() == known.columns.size();
    if (same) {
      for (size_t c = 0; c < known.columns.size(); ++c) {
        same &= previous->second.columns[c].name == known.columns[c].name &&
                previous->second.columns[c].type_oid == known.columns[c].type_oid &&
                previous->second.columns[c].type_modifier == known.columns[c].type_modifier;
      }
    }
    relations_[relation.oid] = known;
    if (known.table < 0 || same) return Status::OK();
    // Types as the copy path maps them (domains, enums, arrays); a column the catalog no longer
    // has (dropped since this WAL was written) lands as text.
    postgres::TypeMappingOptions types;
    types.cast_unsupported_to_text = true;
    SLUICE_ASSIGN_OR_RETURN(auto described, postgres::DescribeTable(*sql_, known.schema, known.name, types));
    std::vector<postgres::PgColumn> layout;
    for (const auto& c : known.columns) {
      postgres::PgColumn column;
      column.name = c.name;
      column.type_oid = c.type_oid;
      column.typmod = c.type_modifier;
      column.target = engine::AppendColumn{c.name, engine::ColumnKind::kVarchar};
      for (const auto& d : described) {
        if (d.name == c.name && d.type_oid == c.type_oid) column = d;
      }
      layout.push_back(std::move(column));
    }
    if (previous != relations_.end()) {
      spdlog::info("pipeline '{}': {} changed its columns at the source; the lake table follows", o_.pipeline, full);
    }
    return buffers_[known.table]->SetLayout(connection, std::move(layout));
  }

  CdcOptions o_;
  std::unique_ptr<postgres::PgClient> sql_;
  std::unique_ptr<postgres::ReplicationConnection> repl_;
  bool key_read_ = false;
  CdcState state_;  // as Start() left it: what sluice created
  Clock::time_point last_ask_, last_probe_;
  // nullopt until the first heartbeat, which runs as streaming starts (a steady clock's epoch is
  // the boot, so "long ago" cannot stand for "never").
  std::optional<Clock::time_point> last_heartbeat_;
  int64_t as_of_us_ = 0;                          // see CdcState::as_of_us
  std::optional<std::pair<Lsn, int64_t>> probe_;  // server WAL position and clock, not yet passed
  Lsn stop_at_, committed_, confirmed_, received_;
  Clock::time_point last_status_;
  bool in_txn_ = false;
  bool skip_txn_ = false;
  postgres::BeginMessage txn_;
  std::map<uint32_t, KnownRelation> relations_;
  std::vector<std::unique_ptr<TableBuffer>> buffers_;
};

}  // namespace

std::unique_ptr<ChangeCapture> MakePgChangeCapture(CdcOptions options) {
  return std::make_unique<PgChangeCapture>(std::move(options));
}

}  // namespace sluice::connectors::pgcdc
