#include <pthread.h>
#include <signal.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <thread>

#include "cli/cli_context.hpp"
#include "cli/watched_folders.hpp"
#include "common/logging.hpp"
#include "config/stream.hpp"
#include "scheduler/daemon.hpp"
#include "server/api_server.hpp"
#include "server/api_token.hpp"
#include "server/server_options.hpp"
#include "streams/stream_service.hpp"

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
  auto token = server::ResolveApiToken(options->token, loaded->workspace->state_dir());
  if (!token.ok()) return ReportError(context, token.status());
  options->token = token->value;
  context.redactor->Add(options->token.Reveal());
  scheduler::DaemonOptions daemon_options;
  daemon_options.max_concurrent_runs = options->max_concurrent_runs;
  auto watched_folders = WatchedFolders(loaded->project);
  if (!watched_folders.ok()) return ReportError(context, watched_folders.status());
  daemon_options.open_folder = std::move(*watched_folders);
  scheduler::Daemon daemon(*loaded->workspace, loaded->project, loaded->pipelines, daemon_options);
  if (Status streams_resolved = loaded->project.CheckResolved("streams", "sluice serve"); !streams_resolved.ok()) {
    return ReportError(context, streams_resolved);
  }
  // Streams recover their spools (against the catalog's committed segments) before the first request.
  auto streams = streams::StreamHub::Open(*loaded->workspace, config::ProjectStreams(loaded->project));
  if (!streams.ok()) return ReportError(context, streams.status());
  server::ApiServer api(*loaded->workspace, daemon, loaded->project, loaded->pipelines, *options);
  api.AttachStreams(streams->get());
  auto port = api.Bind();
  if (!port.ok()) return ReportError(context, port.status());
  Status started = daemon.Start();
  if (!started.ok()) return ReportError(context, started);
  (*streams)->Start();
  // The token itself is never printed: where to find it is.
  std::string token_source =
      token->file.empty()
          ? std::string("the token of server.token")
          : fmt::format("the token {} {}", token->generated ? "generated into" : "in", token->file.string());
  std::fprintf(stderr,
               "sluice serve: listening on http://%s:%d; requests need 'Authorization: Bearer TOKEN' with %s; "
               "stop with Ctrl-C or SIGTERM\n",
               options->host.c_str(), *port, token_source.c_str());
  std::fflush(stderr);
  std::thread serving([&api] {
    try {
      api.Serve();
    } catch (const std::exception& e) {
      spdlog::error("the HTTP API stopped on an unexpected error: {}; stop sluice serve and start it again", e.what());
    }
  });
  int received = 0;
  sigwait(&stop_signals, &received);
  std::fprintf(stderr, "sluice serve: %s received, stopping\n", received == SIGINT ? "SIGINT" : "SIGTERM");
  api.Stop();
  serving.join();
  (*streams)->Stop();
  daemon.Stop();
  return kExitOk;
}

}  // namespace

void AddServeCommand(CLI::App& app, CliContext& context) {
  auto* cmd = app.add_subcommand(
      "serve", "Run pipelines by their triggers and serve the HTTP API (docs/api.md) on server.listen");
  cmd->footer("Stops cleanly on SIGINT/SIGTERM. Exit codes: 0 stopped, 2 invalid config (e.g. no token off loopback).");
  cmd->callback([&context] { context.action = [&context] { return RunServe(context); }; });
}

}  // namespace sluice::cli
