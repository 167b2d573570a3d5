#include <fmt/format.h>

#include "cli/cli_context.hpp"
#include "pipeline/runner.hpp"

namespace sluice::cli {
namespace {

int CancelRun(CliContext& context, const std::string& run_id_or_prefix) {
  auto loaded = LoadAll(context, false);
  if (!loaded.ok()) return ReportError(context, loaded.status());
  auto outcome = pipeline::RequestCancel(*loaded->workspace, run_id_or_prefix);
  if (!outcome.ok()) return ReportError(context, outcome.status());
  const RunId& run_id = outcome->run_id;
  if (outcome->outcome == pipeline::CancelOutcome::kDequeued) {
    fmt::print("cancelled run {}: it was waiting in the queue and will not start\n", run_id);
  } else {
    fmt::print("asked run {} to cancel; `sluice runs show {}` shows when it has stopped\n", run_id, run_id);
  }
  return kExitOk;
}

}  // namespace

void AddCancelCommand(CLI::App& app, CliContext& context) {
  auto run_id = std::make_shared<std::string>();
  auto* cancel = app.add_subcommand(
      "cancel", "Cancel a run: a running one stops its jobs and publishes nothing of them; a queued one never starts");
  cancel->add_option("RUN", *run_id, "run id, or its first characters (from `sluice runs`)")->required();
  cancel->callback([&context, run_id] { context.action = [&context, run_id] { return CancelRun(context, *run_id); }; });
}

}  // namespace sluice::cli
