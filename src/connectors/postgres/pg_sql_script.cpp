#include "connectors/postgres/pg_sql_script.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <mutex>

#include "common/fault_point.hpp"
#include "common/strings.hpp"
#include "connectors/postgres/pg_client.hpp"
#include "connectors/postgres/pg_connection_settings.hpp"
#include "connectors/postgres/pg_script.hpp"

namespace sluice::postgres {
namespace {

/// Statements that would end sluice's transaction early or open another inside it.
const std::vector<std::string> kTransactionControl = {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT"};

std::string Snippet(std::string_view sql) {
  std::string one_line;
  for (char c : sql) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (c == ' ' && !one_line.empty() && one_line.back() == ' ') continue;
    one_line += c;
  }
  return one_line.size() > 60 ? one_line.substr(0, 57) + "..." : one_line;
}

/// "INSERT 0 5" → "INSERT", "CREATE TABLE AS" stays (its count is in PQcmdTuples).
std::string CommandName(const char* tag) {
  std::string name = tag == nullptr ? "" : tag;
  while (!name.empty() && (std::isdigit(static_cast<unsigned char>(name.back())) || name.back() == ' ')) {
    name.pop_back();
  }
  return name;
}

class PgScriptRunner final : public connectors::SqlScriptRunner {
 public:
  PgScriptRunner(std::string connection_name, ConnectionSettings settings)
      : connection_name_(std::move(connection_name)), settings_(std::move(settings)) {}

  std::string Describe() const override { return fmt::format("PostgreSQL connection '{}'", connection_name_); }

  Result<size_t> Check(const connectors::SqlScript& script) const override {
    SLUICE_ASSIGN_OR_RETURN(auto statements, Statements(script));
    return statements.size();
  }

  Result<std::vector<connectors::SqlStatementOutcome>> Run(const connectors::SqlScript& script) override {
    SLUICE_ASSIGN_OR_RETURN(auto statements, Statements(script));
    SLUICE_ASSIGN_OR_RETURN(auto client, PgClient::Connect(settings_.url, settings_.password, settings_.connect));
    Attachment attached(this, client.get());
    SLUICE_TRY(StopIfInterrupted(script, *client));
    SLUICE_TRY(client->Execute("BEGIN"));
    std::vector<connectors::SqlStatementOutcome> outcomes;
    for (size_t i = 0; i < statements.size(); ++i) {
      const auto& statement = statements[i];
      int line = script.first_line + statement.line - 1;
      SLUICE_TRY(StopIfInterrupted(script, *client));
      PgResult result(PQexec(client->raw(), statement.sql.c_str()));
      ExecStatusType status = PQresultStatus(result.get());
      if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
        // Leaving COPY mode takes the connection down; the transaction goes with it.
        return Status::Invalid(
            "{}:{}: statement {} of {} ({}) copies from or to the client, which a sql job cannot "
            "feed; load files with a job whose target: is the table instead",
            script.origin, line, i + 1, statements.size(), Snippet(statement.sql));
      }
      if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) {
        if (const char* position = PQresultErrorField(result.get(), PG_DIAG_STATEMENT_POSITION)) {
          line += LineOfPosition(statement.sql, std::atoi(position)) - 1;
        }
        Status error = client->ResultError(
            result.get(), fmt::format("statement {} of {} ({})", i + 1, statements.size(), Snippet(statement.sql)));
        Rollback(*client);
        return Status(error.code(),
                      fmt::format("{}:{}: {}; the transaction was rolled back, nothing of the script was committed",
                                  script.origin, line, error.message()),
                      error.retryable());
      }
      connectors::SqlStatementOutcome outcome;
      outcome.line = line;
      outcome.command = CommandName(PQcmdStatus(result.get()));
      const char* tuples = PQcmdTuples(result.get());
      outcome.rows = tuples != nullptr && *tuples != '\0' ? std::atoll(tuples) : 0;
      outcomes.push_back(std::move(outcome));
    }
    // Lets the tests stop or kill the job with every statement done but nothing committed.
    if (Status st = fault::Hit("sql_script_before_commit"); !st.ok()) {
      Rollback(*client);
      return st;
    }
    SLUICE_TRY(StopIfInterrupted(script, *client));
    Status committed = client->Execute("COMMIT");
    if (!committed.ok()) {
      return committed.WithContext("{}: committing the script's transaction (nothing of it was committed)",
                                   script.origin);
    }
    return outcomes;
  }

  void Interrupt() override {
    std::lock_guard lock(mutex_);
    interrupted_ = true;
    if (client_ != nullptr) {
      Status st = client_->Cancel();
      if (!st.ok()) spdlog::warn("cancelling the SQL job's statement: {}", st.message());
    }
  }

 private:
  /// Makes the running client known to Interrupt() for the scope of one Run.
  class Attachment {
   public:
    Attachment(PgScriptRunner* runner, PgClient* client) : runner_(runner) {
      std::lock_guard lock(runner_->mutex_);
      runner_->client_ = client;
    }
    ~Attachment() {
      std::lock_guard lock(runner_->mutex_);
      runner_->client_ = nullptr;
    }
    Attachment(const Attachment&) = delete;
    Attachment& operator=(const Attachment&) = delete;

   private:
    PgScriptRunner* runner_;
  };

  Status StopIfInterrupted(const connectors::SqlScript& script, PgClient& client) {
    {
      std::lock_guard lock(mutex_);
      if (!interrupted_) return Status::OK();
    }
    Rollback(client);
    return Status::Cancelled("{}: the script was stopped before it finished; nothing of it was committed",
                             script.origin);
  }

  static void Rollback(PgClient& client) {
    Status st = client.Execute("ROLLBACK");
    if (!st.ok()) spdlog::debug("rollback after a failed SQL job statement: {}", st.message());
  }

  Result<std::vector<ScriptStatement>> Statements(const connectors::SqlScript& script) const {
    auto split = SplitScript(script.text);
    if (!split.ok()) {
      // The lexer counts lines from the script's own start.
      std::string message = split.status().message();
      int line = 0;
      if (std::sscanf(message.c_str(), "line %d:", &line) == 1) {
        message =
            fmt::format("{}:{}:{}", script.origin, script.first_line + line - 1, message.substr(message.find(':') + 1));
      }
      return Status::Invalid("{}", message);
    }
    if (split->empty()) {
      return Status::Invalid("{}: the script has no statements; write SQL statements separated by ';'", script.origin);
    }
    for (const auto& statement : *split) {
      std::string keyword = FirstKeyword(statement.sql);
      if (std::find(kTransactionControl.begin(), kTransactionControl.end(), keyword) == kTransactionControl.end()) {
        continue;
      }
      return Status::Invalid(
          "{}:{}: {} controls the transaction, but sluice runs the whole script in one "
          "transaction of its own; remove the BEGIN/COMMIT statements",
          script.origin, script.first_line + statement.line - 1, keyword);
    }
    return std::move(split).value();
  }

  std::string connection_name_;
  ConnectionSettings settings_;
  std::mutex mutex_;
  PgClient* client_ = nullptr;  // while Run talks to the server
  bool interrupted_ = false;
};

Result<ConnectionSettings> ReadConnection(const connectors::SqlScriptBindContext& context,
                                          const config::Value& connection) {
  SLUICE_ASSIGN_OR_RETURN(
      auto settings,
      ReadConnectionSettings(connection, fmt::format("connection '{}' (sql of job '{}' in pipeline '{}' runs there)",
                                                     context.connection_name, context.job, context.pipeline)));
  settings.connect.application_name = "sluice sql job";
  return settings;
}

}  // namespace

connectors::SqlScriptDescriptor PostgresSqlScriptDescriptor() {
  return connectors::SqlScriptDescriptor{
      "postgres", "runs the script on the PostgreSQL database in one transaction",
      [](const connectors::SqlScriptBindContext& context,
         const config::Value& connection) -> Result<std::unique_ptr<connectors::SqlScriptRunner>> {
        SLUICE_ASSIGN_OR_RETURN(auto settings, ReadConnection(context, connection));
        return std::unique_ptr<connectors::SqlScriptRunner>(
            new PgScriptRunner(context.connection_name, std::move(settings)));
      }};
}

}  // namespace sluice::postgres
