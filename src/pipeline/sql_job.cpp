#include "pipeline/sql_job.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "common/strings.hpp"

namespace sluice::pipeline {
namespace {

namespace fs = std::filesystem;

/// A script file is read whole; beyond this it is not a script but data.
constexpr uintmax_t kMaxScriptBytes = 16ull << 20;
/// The summary names this many statements, then counts the rest.
constexpr size_t kStatementsListed = 20;

std::string JobWhere(const config::PipelineConfig& pipeline, const config::JobConfig& job) {
  return fmt::format("job '{}' of pipeline '{}'", job.name, pipeline.name);
}

Result<std::unique_ptr<connectors::SqlScriptRunner>> BindRunner(const Workspace& workspace,
                                                                const config::PipelineConfig& pipeline,
                                                                const config::JobConfig& job) {
  const auto& sql = *job.sql;
  SLUICE_ASSIGN_OR_RETURN(
      const config::Value* connection,
      FindConnection(workspace.project(), sql.connection,
                     fmt::format("{}: sql of {}", sql.location.ToString(), JobWhere(pipeline, job))));
  SLUICE_ASSIGN_OR_RETURN(std::string type, connection->GetString("type", ""));
  const auto* descriptor = workspace.sql_scripts().Find(type);
  if (descriptor == nullptr) {
    return Status::Invalid(
        "{}: connection '{}' is of type '{}', which cannot run SQL jobs (sql of {}); SQL jobs run "
        "on connections of type {}",
        sql.location.ToString(), sql.connection, type, JobWhere(pipeline, job),
        Join(workspace.sql_scripts().Names(), ", "));
  }
  connectors::SqlScriptBindContext context{workspace.project(), pipeline.name, job.name, sql.connection};
  return descriptor->bind(context, *connection);
}

/// The line of `pipeline`'s file where an inline script's text starts: a block scalar (| or >)
/// starts on the line after its indicator.
int InlineScriptFirstLine(const config::PipelineConfig& pipeline, const config::Location& location) {
  std::ifstream in(pipeline.file);
  std::string line;
  for (int n = 1; n <= location.line && std::getline(in, line); ++n) {
  }
  size_t column = location.column > 0 ? static_cast<size_t>(location.column - 1) : 0;
  bool block = column < line.size() && (line[column] == '|' || line[column] == '>');
  return location.line + (block ? 1 : 0);
}

Result<connectors::SqlScript> LoadScript(const config::ProjectConfig& project, const config::PipelineConfig& pipeline,
                                         const config::JobConfig& job) {
  const auto& sql = *job.sql;
  connectors::SqlScript script;
  if (sql.file.empty()) {
    script.origin = fmt::format("{} (script: of job '{}')", sql.location.file, job.name);
    script.text = sql.script;
    script.first_line = InlineScriptFirstLine(pipeline, sql.location);
    return script;
  }
  script.origin = sql.file;
  fs::path path = config::ResolveProjectPath(project, sql.file);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return Status::Invalid(
        "{}: the SQL file '{}' of {} does not exist (looked for {}); paths are relative to the "
        "project folder",
        sql.location.ToString(), sql.file, JobWhere(pipeline, job), path.string());
  }
  uintmax_t size = fs::file_size(path, ec);
  if (ec || size > kMaxScriptBytes) {
    return Status::Invalid("{}: the SQL file '{}' of {} is {}; a script may have at most {} bytes",
                           sql.location.ToString(), sql.file, JobWhere(pipeline, job),
                           ec ? "unreadable" : fmt::format("{} bytes", size), kMaxScriptBytes);
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in && !in.eof())
    return Status::IoError("cannot read the SQL file '{}' of {}", path.string(), JobWhere(pipeline, job));
  script.text = text.str();
  return script;
}

std::string DescribeOutcomes(const std::vector<connectors::SqlStatementOutcome>& outcomes, const std::string& origin) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < outcomes.size() && i < kStatementsListed; ++i) {
    const auto& o = outcomes[i];
    parts.push_back(fmt::format("line {} {} ({} rows)", o.line, o.command, o.rows));
  }
  if (outcomes.size() > kStatementsListed)
    parts.push_back(fmt::format("and {} more", outcomes.size() - kStatementsListed));
  return fmt::format("{} statement{} of {} committed: {}", outcomes.size(), outcomes.size() == 1 ? "" : "s", origin,
                     Join(parts, "; "));
}

/// Routes the runner's timeout and cancellation to the database for one script run.
class InterruptRoute {
 public:
  InterruptRoute(JobInterrupt* interrupt, connectors::SqlScriptRunner& runner) : interrupt_(interrupt) {
    if (interrupt_ != nullptr) interrupt_->Attach([&runner] { runner.Interrupt(); });
  }
  ~InterruptRoute() {
    if (interrupt_ != nullptr) interrupt_->Detach();
  }
  InterruptRoute(const InterruptRoute&) = delete;
  InterruptRoute& operator=(const InterruptRoute&) = delete;

 private:
  JobInterrupt* interrupt_;
};

}  // namespace

Status ValidateSqlJob(const Workspace& workspace, const config::PipelineConfig& pipeline,
                      const config::JobConfig& job) {
  SLUICE_ASSIGN_OR_RETURN(auto runner, BindRunner(workspace, pipeline, job));
  SLUICE_ASSIGN_OR_RETURN(auto script, LoadScript(workspace.project(), pipeline, job));
  return runner->Check(script).status();
}

JobSummary RunSqlJob(JobRunContext& context, const config::JobConfig& job) {
  auto started = std::chrono::steady_clock::now();
  JobSummary summary;
  summary.job = job.name;
  summary.table = job.sql->connection;
  auto fail = [&](const Status& error) {
    Status reason = Interrupted(context.interrupt);
    // A timeout or cancellation shows as such, with what the database said about the cancelled statement.
    const Status& shown = reason.ok() ? error : reason;
    summary.status = JobStatus::kFailed;
    summary.retryable = shown.retryable();
    summary.message = reason.ok() ? error.message() : fmt::format("{} ({})", reason.message(), error.message());
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    spdlog::error("job '{}' of pipeline '{}' failed: {}", job.name, context.pipeline.name, summary.message);
    return summary;
  };
  auto runner = BindRunner(context.workspace, context.pipeline, job);
  if (!runner.ok()) return fail(runner.status());
  auto script = LoadScript(context.workspace.project(), context.pipeline, job);
  if (!script.ok()) return fail(script.status());
  summary.table = fmt::format("{} ({})", job.sql->connection, script->origin);
  if (context.listener) {
    context.listener->OnJobStart(job.name, fmt::format("SQL {} on {}", script->origin, (*runner)->Describe()));
  }
  spdlog::info("job '{}': running {} on {}", job.name, script->origin, (*runner)->Describe());
  Result<std::vector<connectors::SqlStatementOutcome>> outcomes = Status::Internal("not run");
  {
    InterruptRoute route(context.interrupt, **runner);
    outcomes = (*runner)->Run(*script);
  }
  if (!outcomes.ok()) return fail(outcomes.status());
  for (const auto& o : *outcomes) summary.rows_written += o.rows;
  summary.status = JobStatus::kSucceeded;
  summary.message = DescribeOutcomes(*outcomes, script->origin);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  spdlog::info("job '{}' succeeded: {}", job.name, summary.message);
  return summary;
}

}  // namespace sluice::pipeline
