#include "query/sandboxed_engine.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/strings.hpp"

namespace sluice::query {
namespace {

/// A folder as DuckDB's allowed_directories wants it: with a trailing slash, so "/lake" does not
/// also allow "/lake-private".
std::string FolderPrefix(const std::filesystem::path& folder) {
  std::string text = folder.lexically_normal().string();
  if (text.empty() || text.back() != '/') text += '/';
  return text;
}

}  // namespace

Result<std::unique_ptr<SandboxedEngine>> SandboxedEngine::Open(const SandboxOptions& options) {
  engine::DatabaseOptions database_options;
  database_options.path = ":memory:";
  database_options.memory_limit = options.memory_limit;
  database_options.threads = options.threads;
  if (!options.spill_folder.empty()) database_options.temp_directory = options.spill_folder.string();
  std::unique_ptr<SandboxedEngine> sandbox(new SandboxedEngine());
  SLUICE_ASSIGN_OR_RETURN(sandbox->database_, engine::Database::Open(database_options));
  SLUICE_ASSIGN_OR_RETURN(sandbox->connection_, sandbox->database_->Connect());
  std::vector<std::string> folders;
  for (const auto& folder : options.readable_folders) folders.push_back(SqlQuote(FolderPrefix(folder)));
  // Order matters: the allowed folders must be set before external access is switched off, and the
  // lock last, after which no SET (by us or by a query) is accepted.
  const std::string lockdown[] = {
      fmt::format("SET allowed_directories = [{}]", Join(folders, ", ")),
      "SET allowed_paths = []",
      "SET enable_external_access = false",
      "SET lock_configuration = true",
  };
  for (const auto& statement : lockdown) {
    Status st = sandbox->connection_->Execute(statement);
    if (!st.ok()) return Status::Internal("cannot lock down the query engine ({}): {}", statement, st.message());
  }
  return sandbox;
}

Status CheckSingleSelectParsed(engine::Connection& connection, std::string_view sql) {
  // DuckDB serializes only SELECT statements, and only parses to do so: nothing is bound (binding
  // some statements, e.g. EXPORT DATABASE, already creates folders) or run.
  SLUICE_ASSIGN_OR_RETURN(
      auto serialized,
      connection.Query(fmt::format("SELECT CAST(json_serialize_sql({}) AS VARCHAR) AS tree", SqlQuote(sql))));
  auto tree = nlohmann::json::parse(serialized.Get(0, "tree"), nullptr, /*allow_exceptions=*/false);
  if (!tree.is_object()) return Status::Internal("DuckDB did not describe the query");
  if (tree.value("error", true)) {
    std::string type = tree.value("error_type", "");
    std::string message = tree.value("error_message", "");
    if (type == "parser" || type == "syntax") return Status::Invalid("the query does not parse: {}", message);
    return Status::Invalid(
        "only one SELECT statement is allowed: this is another kind of statement (queries over the API read the "
        "lake's zone.table views and change nothing)");
  }
  auto statements = tree.find("statements");
  size_t count = statements != tree.end() && statements->is_array() ? statements->size() : 0;
  if (count == 0) return Status::Invalid("the query is empty: send one SELECT statement");
  if (count > 1) return Status::Invalid("only one SELECT statement is allowed, and the query holds {}", count);
  return Status::OK();
}

Status CheckReadOnlyQuery(engine::Connection& connection, std::string_view sql) {
  SLUICE_TRY(CheckSingleSelectParsed(connection, sql));
  auto info = connection.Inspect(sql);
  if (!info.ok()) return ExplainSandboxError(info.status());
  if (info->statement_count == 0) return Status::Invalid("the query is empty: send one SELECT statement");
  if (info->statement_count > 1) {
    return Status::Invalid("only one SELECT statement is allowed, and the query holds {}", info->statement_count);
  }
  if (!info->is_select) {
    return Status::Invalid(
        "only one SELECT statement is allowed: a {} statement is refused (queries over the API read the lake's "
        "zone.table views and change nothing)",
        info->kind);
  }
  return Status::OK();
}

Status ExplainSandboxError(const Status& error) {
  if (error.ok()) return error;
  const std::string& message = error.message();
  if (message.find("Permission Error") != std::string::npos) {
    return Status::Invalid(
        "reads outside the lake are not allowed: queries over the API read only the lake's zone.table views "
        "(`sluice query` on the command line can read files) — {}",
        message);
  }
  return error;
}

}  // namespace sluice::query
