#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/cli_context.hpp"
#include "common/logging.hpp"

int main(int argc, char** argv) {
  using namespace sluice::cli;
  CliContext context;
  CLI::App app{
      "sluice: moves data from databases, files and streams into a zoned Parquet lake, keeps its catalog, "
      "and answers SQL over it.",
      "sluice"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand: `sluice run p --env prod`
  app.set_version_flag("--version", std::string("sluice 0.1.0"));
  app.add_option("--project,-p", context.options.project_dir,
                 "project folder (holding sluice.yaml); default: searched upwards from here, or $SLUICE_PROJECT");
  app.add_option("--env,-e", context.options.env, "environment overlay from environments: in sluice.yaml");
  app.add_option("--log-format", context.options.log_format, "text (default) or json lines")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", context.options.log_level, "debug | info | warn | error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.footer(
      "Exit codes: 0 success (including \"no changes\"), 1 run failed, 2 invalid usage or config.\n"
      "Run `sluice COMMAND --help` for a command's options.");

  AddInitCommand(app, context);
  AddValidateCommand(app, context);
  AddRunCommand(app, context);
  AddQueryCommand(app, context);
  AddCatalogCommand(app, context);
  AddRunsCommands(app, context);
  AddMaintainCommand(app, context);
  AddCancelCommand(app, context);
  AddServeCommand(app, context);
  AddJobsCommand(app, context);
  AddCdcCommand(app, context);
  AddSendCommand(app, context);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  sluice::LogOptions log;
  log.format = context.options.log_format == "json" ? sluice::LogFormat::kJson : sluice::LogFormat::kText;
  log.level = spdlog::level::from_str(context.options.log_level);
  log.redactor = context.redactor;
  sluice::SetupLogging(log);
  if (!context.action) return kExitUsage;
  auto clock = sluice::ClockFromEnvironment();
  if (!clock.ok()) return ReportError(context, clock.status());
  context.clock = *clock;
  try {
    return context.action();
  } catch (const std::exception& e) {
    // Third-party code below us should have turned this into a Status; never die silently.
    std::fprintf(stderr, "error: %s\n", context.redactor->Apply(e.what()).c_str());
    return kExitFailed;
  }
}
