#include "catalog/sqlite_connection.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "common/strings.hpp"

namespace sluice::catalog::sqlite {

Status StatusFromSqlite(sqlite3* db, int rc, std::string_view what) {
  const char* file = db != nullptr ? sqlite3_db_filename(db, "main") : nullptr;
  std::string where = file != nullptr && *file != '\0' ? file : "(catalog)";
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(
          "{}: catalog {} stayed locked by another sluice process beyond the busy timeout ({}); retry, or look for a "
          "process stuck holding it",
          what, where, detail);
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return Status::IoError("{}: catalog {}: {}; check the file, its folder's permissions and free disk space", what,
                             where, detail);
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return Status::DataError(
          "{}: {} is not a usable SQLite catalog ({}); point `catalog:` at another file or "
          "restore it from a backup",
          what, where, detail);
    case SQLITE_CONSTRAINT: return Status::AlreadyExists("{}: catalog {}: {}", what, where, detail);
    default: return Status::Internal("{}: catalog {}: {} (SQLite code {})", what, where, detail, rc);
  }
}

Statement::Statement(sqlite3* db, sqlite3_stmt* stmt, std::string_view sql) : db_(db), stmt_(stmt), sql_(sql) {}

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), stmt_(std::exchange(other.stmt_, nullptr)), sql_(std::move(other.sql_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
    sql_ = std::move(other.sql_);
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Status Statement::Bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index + 1, value);
  if (rc != SQLITE_OK) return StatusFromSqlite(db_, rc, fmt::format("binding parameter {} of `{}`", index, sql_));
  return Status::OK();
}

Status Statement::Bind(int index, std::string_view value) {
  // SQLITE_TRANSIENT: SQLite copies the bytes, so the caller's buffer may go away before Step().
  int rc = sqlite3_bind_text64(stmt_, index + 1, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) return StatusFromSqlite(db_, rc, fmt::format("binding parameter {} of `{}`", index, sql_));
  return Status::OK();
}

Status Statement::Bind(int index, std::nullopt_t) {
  int rc = sqlite3_bind_null(stmt_, index + 1);
  if (rc != SQLITE_OK) return StatusFromSqlite(db_, rc, fmt::format("binding parameter {} of `{}`", index, sql_));
  return Status::OK();
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status status = StatusFromSqlite(db_, rc, fmt::format("running `{}`", sql_));
  sqlite3_reset(stmt_);
  return status;
}

Status Statement::Run() {
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::OK();
  }
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::optional<int64_t> Statement::OptionalInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

namespace {

/// Switching a new catalog to WAL takes an exclusive lock. When several processes open a fresh
/// catalog at once, SQLite answers SQLITE_BUSY straight away instead of calling the busy handler
/// (two readers both waiting to upgrade would deadlock), so the switch is retried here until the
/// busy timeout runs out.
Result<std::string> SwitchToWal(Connection& connection, std::chrono::milliseconds busy_timeout) {
  auto deadline = std::chrono::steady_clock::now() + busy_timeout;
  for (std::chrono::milliseconds pause(5);; pause = std::min(pause * 2, std::chrono::milliseconds(100))) {
    SLUICE_ASSIGN_OR_RETURN(auto wal, connection.Prepare("PRAGMA journal_mode = WAL"));
    Result<bool> row = wal.Step();
    if (row.ok()) return *row ? ToLower(wal.Text(0)) : std::string("unknown");
    if (row.status().code() != StatusCode::kUnavailable || std::chrono::steady_clock::now() + pause > deadline) {
      return row.status();
    }
    std::this_thread::sleep_for(pause);
  }
}

}  // namespace

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, std::chrono::milliseconds busy_timeout) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  // sqlite3_open_v2 hands out a handle even on failure; it must be closed either way.
  std::unique_ptr<Connection> connection(new Connection(db, path));
  if (rc != SQLITE_OK) return StatusFromSqlite(db, rc, fmt::format("opening catalog {}", path));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
  // journal_mode=WAL lets readers run beside one writer and persists in the file. synchronous=FULL because
  // callers act on a returned commit (a replication source acknowledges its LSN upstream): it must survive a
  // power loss, not only a crash.
  {
    SLUICE_ASSIGN_OR_RETURN(std::string mode, SwitchToWal(*connection, busy_timeout));
    if (mode != "wal") {
      // Happens on file systems without shared memory (network mounts): still correct, but readers wait.
      spdlog::warn(
          "catalog {}: SQLite could not switch to WAL mode (journal mode stays '{}'); keep the catalog on "
          "a local disk so readers do not wait for writers",
          path, mode);
    }
  }
  SLUICE_TRY(connection->Execute("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON"));
  return connection;
}

Connection::~Connection() { sqlite3_close_v2(db_); }

Status Connection::Execute(std::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  sqlite3_free(error);  // the same text is available from sqlite3_errmsg
  if (rc != SQLITE_OK) return StatusFromSqlite(db_, rc, fmt::format("running `{}`", sql));
  return Status::OK();
}

Result<Statement> Connection::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return StatusFromSqlite(db_, rc, fmt::format("preparing `{}`", sql));
  }
  return Statement(db_, stmt, sql);
}

int64_t Connection::Changes() const { return sqlite3_changes64(db_); }

Result<Transaction> Transaction::Begin(Connection& connection, std::string_view begin_sql) {
  SLUICE_TRY(connection.Execute(begin_sql));
  return Transaction(&connection);
}

Transaction::~Transaction() {
  if (connection_ != nullptr) {
    // A failed rollback leaves nothing more to do: SQLite rolls back on close or on the next BEGIN error.
    (void)connection_->Execute("ROLLBACK");
  }
}

Status Transaction::Commit() {
  Connection* connection = std::exchange(connection_, nullptr);
  Status status = connection->Execute("COMMIT");
  if (!status.ok()) (void)connection->Execute("ROLLBACK");
  return status;
}

}  // namespace sluice::catalog::sqlite
