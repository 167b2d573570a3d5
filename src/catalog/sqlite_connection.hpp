#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ids.hpp"
#include "common/status.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace sluice::catalog::sqlite {

/// Owns one prepared statement (finalized on destruction). Columns and parameters are 0-based here.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt, std::string_view sql);
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Status Bind(int index, int64_t value);
  Status Bind(int index, std::string_view value);
  Status Bind(int index, const std::string& value) { return Bind(index, std::string_view(value)); }
  Status Bind(int index, const char* value) { return Bind(index, std::string_view(value)); }
  Status Bind(int index, const RunId& value) { return Bind(index, std::string_view(value.value)); }
  Status Bind(int index, std::nullopt_t);
  template <typename T>
  Status Bind(int index, const std::optional<T>& value) {
    return value ? Bind(index, *value) : Bind(index, std::nullopt);
  }
  /// Binds the arguments to parameters 0, 1, 2, ...
  template <typename... Args>
  Status BindAll(const Args&... args) {
    int index = 0;
    Status status;
    (void)((status = Bind(index++, args)).ok() && ...);
    return status;
  }

  /// true: a row is available; false: done.
  Result<bool> Step();
  /// Every remaining row, each made by `read(*this)`, which returns the row's value or a Result of it.
  template <typename T, typename Read>
  Result<std::vector<T>> ReadRows(Read&& read) {
    std::vector<T> rows;
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool more, Step());
      if (!more) return rows;
      Result<T> row = read(static_cast<const Statement&>(*this));
      if (!row.ok()) return row.status();
      rows.push_back(std::move(row).value());
    }
  }
  /// Steps until done (statements without result rows).
  Status Run();
  /// Ready to bind and run again.
  void Reset();

  bool IsNull(int column) const;
  int64_t Int(int column) const;
  std::string Text(int column) const;
  std::optional<int64_t> OptionalInt(int column) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
};

/// Owns one sqlite3 connection (closed on destruction).
class Connection {
 public:
  /// Opens (creating if missing) the database file with a busy timeout and WAL journal.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, std::chrono::milliseconds busy_timeout);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  /// One or more statements without results.
  Status Execute(std::string_view sql);
  Result<Statement> Prepare(std::string_view sql);
  /// Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t Changes() const;
  const std::string& path() const { return path_; }

 private:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_ = nullptr;
  std::string path_;
};

/// Turns an SQLite result code into a Status: busy/locked -> Unavailable (retryable), I/O and permission
/// problems -> IoError, a corrupt or foreign file -> DataError, constraint violations -> AlreadyExists.
Status StatusFromSqlite(sqlite3* db, int rc, std::string_view what);

/// Rolls back unless Commit() was called. `begin_sql` is "BEGIN IMMEDIATE" for writers (takes the write
/// lock up front, so a writer never fails half-way on a lock upgrade) and "BEGIN" for consistent reads.
class Transaction {
 public:
  static Result<Transaction> Begin(Connection& connection, std::string_view begin_sql);
  Transaction(Transaction&& other) noexcept : connection_(other.connection_) { other.connection_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(Connection* connection) : connection_(connection) {}
  Connection* connection_;
};

}  // namespace sluice::catalog::sqlite
