#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/secret.hpp"
#include "common/status.hpp"

// libpq's handle types, declared so that this header does not pull libpq-fe.h into its users.
struct pg_conn;
struct pg_result;

namespace sluice::postgres {

struct ConnectOptions {
  int connect_timeout_seconds = 10;
  /// libpq sslmode (disable, prefer, require, verify-ca, verify-full); "" keeps what the URL says.
  std::string sslmode;
  /// Shown in pg_stat_activity unless the URL sets application_name itself.
  std::string application_name = "sluice";
  /// "database" opens a logical replication connection (walsender; replication commands and
  /// simple queries only); "" a normal one.
  std::string replication;
  /// Server settings for the session (libpq `options`, e.g. "-c TimeZone=UTC"); "" = the server's defaults.
  std::string server_options;
};

/// Owns one PGresult.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(pg_result* result) : result_(result) {}
  ~PgResult();
  PgResult(PgResult&& other) noexcept : result_(other.release()) {}
  PgResult& operator=(PgResult&& other) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;

  pg_result* get() const { return result_; }
  pg_result* release() {
    pg_result* r = result_;
    result_ = nullptr;
    return r;
  }

 private:
  pg_result* result_ = nullptr;
};

/// A query result with every value as text (nullopt = SQL NULL).
struct TextRows {
  std::vector<std::string> column_names;
  std::vector<std::vector<std::optional<std::string>>> rows;

  /// Value of row `row`, column `column` ("" for NULL or out of range).
  std::string Get(size_t row, std::string_view column) const;
};

/// One libpq connection. Not thread-safe, except Cancel().
class PgClient {
 public:
  /// Connects to `url` (a postgresql:// URL or a libpq key=value string). The password goes to
  /// libpq as a keyword, never into a string that could be logged; errors name host:port/db only.
  static Result<std::unique_ptr<PgClient>> Connect(std::string_view url, const std::optional<Secret>& password,
                                                   const ConnectOptions& options = {});
  ~PgClient();
  PgClient(const PgClient&) = delete;
  PgClient& operator=(const PgClient&) = delete;

  /// "host:port/database", for messages.
  const std::string& endpoint() const { return endpoint_; }
  /// e.g. 150004 for 15.4.
  int server_version() const;

  /// Runs one or more statements, discarding any rows.
  Status Execute(std::string_view sql);
  Result<TextRows> Query(std::string_view sql);
  /// Runs one statement with text parameters $1, $2, ... (nullopt = NULL).
  Result<TextRows> QueryParams(std::string_view sql, const std::vector<std::optional<std::string>>& params);

  /// Opens a REPEATABLE READ, READ ONLY transaction on this connection and exports its snapshot;
  /// other connections that import the id see exactly the same data. The transaction (and so the
  /// snapshot) lives until this connection commits, rolls back or closes.
  Result<std::string> ExportSnapshot();
  /// Opens a REPEATABLE READ, READ ONLY transaction that sees the exported snapshot `snapshot_id`.
  Status ImportSnapshot(std::string_view snapshot_id);

  /// Asks the server to cancel the statement running on this connection. Thread-safe.
  Status Cancel();

  /// The Status for a failed result of `what` (e.g. "query"): SQLSTATE in the message, code and
  /// retryability from the SQLSTATE class, or from the connection state when there is none.
  Status ResultError(const pg_result* result, std::string_view what) const;
  /// The Status for a failure reported on the connection itself (PQerrorMessage).
  Status ConnectionError(std::string_view what) const;

  /// For this module's readers (COPY): the underlying connection.
  pg_conn* raw() const { return conn_; }

 private:
  PgClient(pg_conn* conn, std::string endpoint, Secret password);

  pg_conn* conn_;
  void* cancel_;  // PGcancel*
  std::string endpoint_;
  Secret password_;  // kept only to mask it, should libpq ever echo it
};

/// Maps a SQLSTATE to the Status code and retryability sluice uses: connection exceptions (08xxx),
/// serialization failures (40001), deadlocks (40P01), shutdowns and start-ups (57P01..57P03) and
/// too many connections (53300) are retryable; syntax, permission and data errors are not.
Status StatusFromSqlState(std::string_view sqlstate, std::string message);

/// Quotes a name for PostgreSQL SQL ("a""b").
std::string QuoteIdent(std::string_view name);
/// Quotes a string literal for PostgreSQL SQL with standard_conforming_strings ('it''s').
std::string QuoteLiteral(std::string_view text);

}  // namespace sluice::postgres
