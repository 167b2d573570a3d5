#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/secret.hpp"
#include "common/status.hpp"
#include "config/pipeline.hpp"
#include "config/project.hpp"
#include "pipeline/workspace.hpp"

namespace sluice::cli {

/// Exit codes (documented in docs/cli.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

struct GlobalOptions {
  std::string project_dir;  // "" = search upwards from the working directory
  std::string env;
  std::string log_format = "text";
  std::string log_level = "info";
};

/// Lives for the whole process; main() owns it.
struct CliContext {
  GlobalOptions options;
  std::shared_ptr<Redactor> redactor = std::make_shared<Redactor>();
  std::shared_ptr<const Clock> clock = std::make_shared<SystemClock>();
  /// Set by the chosen subcommand while parsing; main() runs it once logging is set up.
  std::function<int()> action;
};

struct LoadedProject {
  config::ProjectConfig project;
  std::vector<config::PipelineConfig> pipelines;
  std::unique_ptr<pipeline::Workspace> workspace;
};

Result<std::filesystem::path> FindProjectFile(const GlobalOptions& options);
Result<config::ProjectConfig> LoadProjectOnly(CliContext& context);
/// Project, every pipeline and the opened workspace (lake, catalog, engine).
Result<LoadedProject> LoadAll(CliContext& context, bool with_pipelines = true);

/// Prints "error: …" (redacted) on stderr and returns the exit code for the status.
int ReportError(const CliContext& context, const Status& status);

void AddInitCommand(CLI::App& app, CliContext& context);
void AddValidateCommand(CLI::App& app, CliContext& context);
void AddRunCommand(CLI::App& app, CliContext& context);
void AddQueryCommand(CLI::App& app, CliContext& context);
void AddCatalogCommand(CLI::App& app, CliContext& context);
void AddRunsCommands(CLI::App& app, CliContext& context);
void AddMaintainCommand(CLI::App& app, CliContext& context);
void AddCancelCommand(CLI::App& app, CliContext& context);
void AddServeCommand(CLI::App& app, CliContext& context);
void AddJobsCommand(CLI::App& app, CliContext& context);
void AddCdcCommand(CLI::App& app, CliContext& context);
void AddSendCommand(CLI::App& app, CliContext& context);

}  // namespace sluice::cli
