#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/registry.hpp"
#include "common/status.hpp"
#include "config/options.hpp"
#include "config/project.hpp"
#include "config/value.hpp"

// SQL jobs (`sql: { connection: warehouse, file: sql/analytics.sql }`) run a script on a database.
// How a script is split into statements and run in one transaction is the database's business,
// so each database is a plug-in keyed by its connection's `type:`; the runner never names one.
// Header-only, so that a database module (sluice_postgres) implements it without linking the
// connectors library that registers it.
namespace sluice::connectors {

/// A script and where it comes from, for messages.
struct SqlScript {
  std::string origin;  // "sql/analytics.sql", or "pipelines/shop.yaml (script: of job 'x')"
  std::string text;
  int first_line = 1;  // the line of `origin` where `text` starts
};

/// What one statement of a script did.
struct SqlStatementOutcome {
  int line = 0;         // in the script's origin
  std::string command;  // the server's command tag without counts: "INSERT", "CREATE TABLE"
  int64_t rows = 0;     // rows inserted, updated, deleted or returned (0 when the command has none)
};

struct SqlScriptBindContext {
  const config::ProjectConfig& project;
  std::string pipeline;
  std::string job;
  std::string connection_name;
};

/// A database connection that runs scripts. Not thread-safe, except Interrupt().
class SqlScriptRunner {
 public:
  virtual ~SqlScriptRunner() = default;
  /// "PostgreSQL warehouse", for messages and `sluice validate`.
  virtual std::string Describe() const = 0;
  /// Splits the script into statements and checks what can be checked without a server (quotes
  /// and comments closed, no transaction control of its own); the number of statements.
  virtual Result<size_t> Check(const SqlScript& script) const = 0;
  /// Runs every statement in one transaction: all of them are committed or none. An error names
  /// the origin and line of the failing statement and the database's message and error code.
  virtual Result<std::vector<SqlStatementOutcome>> Run(const SqlScript& script) = 0;
  /// Thread-safe: cancels the statement running on the server (timeout, cancellation); Run then
  /// fails and rolls back. Also stops a Run that has not reached the server yet.
  virtual void Interrupt() = 0;
};

/// A database kind that runs SQL jobs: `name` is the connection's `type:`. `bind` reads the
/// connection's keys (url, password, ...) and connects nowhere yet.
struct SqlScriptDescriptor {
  std::string name;
  std::string description;
  std::function<Result<std::unique_ptr<SqlScriptRunner>>(const SqlScriptBindContext&, const config::Value& connection)>
      bind;
};

using SqlScriptRegistry = PluginRegistry<SqlScriptDescriptor, &SqlScriptDescriptor::name>;

/// Registers every built-in database that runs SQL jobs: one line each in register_builtin.cpp.
void RegisterBuiltinSqlScripts(SqlScriptRegistry& registry);

}  // namespace sluice::connectors
