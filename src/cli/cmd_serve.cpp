#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <thread>

#include "cli/cli_context.hpp"
#include "cli/watched_folders.hpp"
#include "common/logging.hpp"
#include "scheduler/daemon.hpp"
#include "server/api_server.hpp"
#include "server/server_options.hpp"

namespace sluice::cli {
namespace {

int RunServe(CliContext& context) {
  // Block the stop signals before any thread starts, so every thread inherits the mask and only
  // the sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto loaded = LoadAll(context);
  if (!loaded.ok()) return ReportError(context, loaded.status());
  auto options = server::ServerOptionsFromConfig(loaded->project);
  if (!options.ok()) return ReportError(context, options.status());
  if (!options->token.empty()) context.redactor->Add(options->token.Reveal());
  scheduler::DaemonOptions daemon_options;
  daemon_options.max_concurrent_runs = options->max_concurrent_runs;
  auto watched_folders = WatchedFolders(loaded->project);
  if (!watched_folders.ok()) return ReportError(context, watched_folders.status());
  daemon_options.open_folder = std::move(*watched_folders);
  scheduler::Daemon daemon(*loaded->workspace, loaded->project, loaded->pipelines, daemon_options);
  server::ApiServer api(*loaded->workspace, daemon, loaded->project, loaded->pipelines, *options);
  auto port = api.Bind();
  if (!port.ok()) return ReportError(context, port.status());
  Status started = daemon.Start();
  if (!started.ok()) return ReportError(context, started);
  std::fprintf(stderr, "sluice serve: listening on http://%s:%d (%s); stop with Ctrl-C or SIGTERM\n",
               options->host.c_str(), *port, options->token.empty() ? "no token" : "token required");
  std::fflush(stderr);
  std::thread serving([&api] { api.Serve(); });
  int received = 0;
  sigwait(&stop_signals, &received);
  std::fprintf(stderr, "sluice serve: %s received, stopping\n", received == SIGINT ? "SIGINT" : "SIGTERM");
  api.Stop();
  serving.join();
  daemon.Stop();
  return kExitOk;
}

}  // namespace

void AddServeCommand(CLI::App& app, CliContext& context) {
  auto* cmd = app.add_subcommand("serve", "Run pipelines by their triggers and serve the HTTP API (docs/api.md) on server.listen");
  cmd->footer("Stops cleanly on SIGINT/SIGTERM. Exit codes: 0 stopped, 2 invalid config (e.g. no token off loopback).");
  cmd->callback([&context] { context.action = [&context] { return RunServe(context); }; });
}

}  // namespace sluice::cli
