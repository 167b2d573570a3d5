#include "connectors/postgres/pg_client.hpp"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <array>

#include "common/strings.hpp"

namespace sluice::postgres {
namespace {

/// Replaces every occurrence of the secrets in `text` with ***: libpq does not echo passwords, but
/// a message built from a malformed URL could quote part of it.
std::string Mask(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 3)) {
      text.replace(pos, secret.size(), "***");
    }
  }
  return text;
}

/// libpq messages end with a newline and sometimes carry a "FATAL:  " prefix; keep one clean line.
std::string CleanMessage(const char* message) {
  std::string text;
  for (const char* p = message ? message : ""; *p != '\0'; ++p) {
    bool space = *p == '\n' || *p == '\t' || *p == '\r' || *p == ' ';
    if (!space) {
      text += *p;
    } else if (!text.empty() && text.back() != ' ') {
      text += ' ';
    }
  }
  text = Trim(text);
  return text.empty() ? "unknown libpq error" : text;
}

struct ParsedConninfo {
  std::string host, port, dbname, user, password;
};

Result<ParsedConninfo> ParseConninfo(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    std::string message = CleanMessage(error ? error : "out of memory");
    if (error != nullptr) PQfreemem(error);
    // The text may quote the URL, password included: show libpq's reason only when it does not.
    if (url.find('@') != std::string::npos || url.find("password") != std::string::npos) {
      message = "the connection string is malformed";
    }
    return Status::Invalid("invalid PostgreSQL connection URL: {}; expected postgresql://user@host:port/database",
                           message);
  }
  ParsedConninfo parsed;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    std::string_view key = o->keyword;
    if (key == "host" || (key == "hostaddr" && parsed.host.empty())) parsed.host = o->val;
    if (key == "port") parsed.port = o->val;
    if (key == "dbname") parsed.dbname = o->val;
    if (key == "user") parsed.user = o->val;
    if (key == "password") parsed.password = o->val;
  }
  PQconninfoFree(options);
  return parsed;
}

std::string EndpointOf(const ParsedConninfo& p) {
  std::string host = p.host.empty() ? "localhost" : p.host;
  std::string port = p.port.empty() ? "5432" : p.port;
  std::string db = !p.dbname.empty() ? p.dbname : (!p.user.empty() ? p.user : "postgres");
  return fmt::format("{}:{}/{}", host, port, db);
}

/// Connection failures without a SQLSTATE: decide from libpq's text whether retrying can help.
/// Refused, unreachable, starting up and timeouts can; bad credentials or names cannot.
bool ConnectFailureIsRetryable(const std::string& message) {
  static constexpr std::array<std::string_view, 9> kPermanent = {
      "password authentication failed", "authentication failed", "no password supplied",      "does not exist",
      "no pg_hba.conf entry",           "permission denied",     "invalid connection option", "invalid sslmode",
      "server does not support SSL",
  };
  std::string lower = ToLower(message);
  for (std::string_view p : kPermanent) {
    if (lower.find(p) != std::string::npos) return false;
  }
  return true;
}

/// Server notices (NOTICE, WARNING) go to the log instead of libpq's default, stderr.
void LogNotice(void* endpoint, const char* message) {
  try {
    spdlog::debug("PostgreSQL {}: {}", *static_cast<const std::string*>(endpoint), CleanMessage(message));
  } catch (...) {  // nothing may escape into libpq
  }
}

std::string_view OrEmpty(const char* s) { return s ? std::string_view(s) : std::string_view(); }

TextRows ToTextRows(const PGresult* result) {
  TextRows out;
  int columns = PQnfields(result);
  int rows = PQntuples(result);
  for (int c = 0; c < columns; ++c) out.column_names.emplace_back(PQfname(result, c));
  out.rows.reserve(static_cast<size_t>(rows));
  for (int r = 0; r < rows; ++r) {
    std::vector<std::optional<std::string>> row(static_cast<size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      if (!PQgetisnull(result, r, c)) {
        row[static_cast<size_t>(c)] =
            std::string(PQgetvalue(result, r, c), static_cast<size_t>(PQgetlength(result, r, c)));
      }
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

std::string Snippet(std::string_view sql) {
  std::string text(sql.substr(0, 160));
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return sql.size() > 160 ? text + "..." : text;
}

}  // namespace

PgResult::~PgResult() {
  if (result_ != nullptr) PQclear(result_);
}

PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    if (result_ != nullptr) PQclear(result_);
    result_ = other.release();
  }
  return *this;
}

std::string TextRows::Get(size_t row, std::string_view column) const {
  for (size_t c = 0; c < column_names.size(); ++c) {
    if (column_names[c] == column) {
      if (row >= rows.size() || !rows[row][c]) return "";
      return *rows[row][c];
    }
  }
  return "";
}

Status StatusFromSqlState(std::string_view sqlstate, std::string message) {
  auto cls = sqlstate.substr(0, 2);
  if (cls == "08" || sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03" || sqlstate == "53300") {
    return Status(StatusCode::kUnavailable, std::move(message), true);
  }
  if (sqlstate == "40001" || sqlstate == "40P01") return Status(StatusCode::kConflict, std::move(message), true);
  if (sqlstate == "57014") return Status(StatusCode::kCancelled, std::move(message));
  if (sqlstate == "42P01" || sqlstate == "3D000") return Status(StatusCode::kNotFound, std::move(message));
  if (cls == "42" || cls == "28" || cls == "3D" || cls == "3F" || cls == "25" || cls == "0A") {
    return Status(StatusCode::kInvalidArgument, std::move(message));
  }
  if (cls == "22" || cls == "23") return Status(StatusCode::kDataError, std::move(message));
  return Status(StatusCode::kIoError, std::move(message));
}

// PostgreSQL quotes like DuckDB does (standard_conforming_strings is on since 9.1).
std::string QuoteIdent(std::string_view name) { return SqlIdent(name); }
std::string QuoteLiteral(std::string_view text) { return SqlQuote(text); }

PgClient::PgClient(pg_conn* conn, std::string endpoint, Secret password)
    : conn_(conn), cancel_(PQgetCancel(conn)), endpoint_(std::move(endpoint)), password_(std::move(password)) {
  PQsetNoticeProcessor(conn_, LogNotice, &endpoint_);
}

PgClient::~PgClient() {
  if (cancel_ != nullptr) PQfreeCancel(static_cast<PGcancel*>(cancel_));
  PQfinish(conn_);
}

Result<std::unique_ptr<PgClient>> PgClient::Connect(std::string_view url, const std::optional<Secret>& password,
                                                    const ConnectOptions& options) {
  std::string conninfo(url);
  SLUICE_ASSIGN_OR_RETURN(ParsedConninfo parsed, ParseConninfo(conninfo));
  std::string endpoint = EndpointOf(parsed);
  std::vector<std::string> secrets = {parsed.password};
  if (password) secrets.push_back(password->Reveal());

  std::string timeout = std::to_string(options.connect_timeout_seconds);
  // Later keywords override what the URL (expanded from "dbname") says.
  std::vector<const char*> keys = {"dbname", "connect_timeout", "fallback_application_name", "client_encoding"};
  std::vector<const char*> values = {conninfo.c_str(), timeout.c_str(), options.application_name.c_str(), "UTF8"};
  if (password) {
    keys.push_back("password");
    values.push_back(password->Reveal().c_str());
  }
  if (!options.sslmode.empty()) {
    keys.push_back("sslmode");
    values.push_back(options.sslmode.c_str());
  }
  if (!options.server_options.empty()) {
    keys.push_back("options");
    values.push_back(options.server_options.c_str());
  }
  if (!options.replication.empty()) {
    keys.push_back("replication");
    values.push_back(options.replication.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);

  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (conn == nullptr) return Status::Internal("libpq could not allocate a connection to {}", endpoint);
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = Mask(CleanMessage(PQerrorMessage(conn)), secrets);
    PQfinish(conn);
    if (ConnectFailureIsRetryable(message)) {
      return Status::Unavailable("cannot connect to PostgreSQL at {}: {}", endpoint, message);
    }
    return Status::Invalid("cannot connect to PostgreSQL at {}: {}; check the user, password and database name",
                           endpoint, message);
  }
  endpoint = fmt::format("{}:{}/{}", OrEmpty(PQhost(conn)), OrEmpty(PQport(conn)), OrEmpty(PQdb(conn)));
  return std::unique_ptr<PgClient>(
      new PgClient(conn, std::move(endpoint), password ? *password : Secret(parsed.password)));
}

int PgClient::server_version() const { return PQserverVersion(conn_); }

Status PgClient::ConnectionError(std::string_view what) const {
  std::string message = Mask(CleanMessage(PQerrorMessage(conn_)), {password_.Reveal()});
  if (PQstatus(conn_) == CONNECTION_BAD) {
    return Status::Unavailable("PostgreSQL {}: {} failed, the connection was lost: {}", endpoint_, what, message);
  }
  return Status::IoError("PostgreSQL {}: {} failed: {}", endpoint_, what, message);
}

Status PgClient::ResultError(const pg_result* result, std::string_view what) const {
  const char* sqlstate = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  if (sqlstate == nullptr) return ConnectionError(what);
  std::string message = fmt::format("PostgreSQL {}: {} failed [SQLSTATE {}]: {}", endpoint_, what, sqlstate,
                                    CleanMessage(PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY)));
  if (const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL)) {
    message += fmt::format("; detail: {}", CleanMessage(detail));
  }
  if (const char* hint = PQresultErrorField(result, PG_DIAG_MESSAGE_HINT)) {
    message += fmt::format("; hint: {}", CleanMessage(hint));
  }
  return StatusFromSqlState(sqlstate, Mask(std::move(message), {password_.Reveal()}));
}

Status PgClient::Execute(std::string_view sql) {
  PgResult result(PQexec(conn_, std::string(sql).c_str()));
  ExecStatusType status = PQresultStatus(result.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) return Status::OK();
  return ResultError(result.get(), fmt::format("statement '{}'", Snippet(sql)));
}

Result<TextRows> PgClient::Query(std::string_view sql) { return QueryParams(sql, {}); }

Result<TextRows> PgClient::QueryParams(std::string_view sql, const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  PgResult result(PQexecParams(conn_, std::string(sql).c_str(), static_cast<int>(params.size()), nullptr, values.data(),
                               nullptr, nullptr, /*resultFormat=*/0));
  ExecStatusType status = PQresultStatus(result.get());
  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
    try {
      return ToTextRows(result.get());
    } catch (const std::bad_alloc&) {
      return Status::Internal("out of memory reading the result of '{}' from PostgreSQL {}", Snippet(sql), endpoint_);
    }
  }
  return ResultError(result.get(), fmt::format("query '{}'", Snippet(sql)));
}

Result<std::string> PgClient::ExportSnapshot() {
  SLUICE_TRY(Execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  auto rows = Query("SELECT pg_export_snapshot()");
  if (!rows.ok() || rows->rows.size() != 1 || !rows->rows[0][0]) {
    (void)Execute("ROLLBACK");
    if (!rows.ok()) return rows.status();
    return Status::Internal("PostgreSQL {}: pg_export_snapshot() returned no snapshot id", endpoint_);
  }
  return *rows->rows[0][0];
}

Status PgClient::ImportSnapshot(std::string_view snapshot_id) {
  SLUICE_TRY(Execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  Status st = Execute(fmt::format("SET TRANSACTION SNAPSHOT {}", QuoteLiteral(snapshot_id)));
  if (!st.ok()) {
    (void)Execute("ROLLBACK");
    return st.WithContext("importing snapshot '{}' (the exporting transaction must still be open)", snapshot_id);
  }
  return Status::OK();
}

Status PgClient::Cancel() {
  if (cancel_ == nullptr) return Status::Internal("PostgreSQL {}: no cancel handle", endpoint_);
  std::array<char, 256> error{};
  if (PQcancel(static_cast<PGcancel*>(cancel_), error.data(), static_cast<int>(error.size())) == 0) {
    return Status::Unavailable("PostgreSQL {}: cancel request failed: {}", endpoint_, CleanMessage(error.data()));
  }
  return Status::OK();
}

}  // namespace sluice::postgres
