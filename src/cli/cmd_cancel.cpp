#include <fmt/format.h>

#include "cli/cli_context.hpp"
#include "pipeline/runner.hpp"

namespace sluice::cli {
namespace {

int CancelRun(CliContext& context, const std::string& run_id) {
  auto loaded = LoadAll(context, false);
  if (!loaded.ok()) return ReportError(context, loaded.status());
  Status st = pipeline::RequestCancel(*loaded->workspace, run_id);
  if (!st.ok()) return ReportError(context, st);
  fmt::print("asked run {} to cancel; `sluice runs show {}` shows when it has stopped\n", run_id, run_id);
  return kExitOk;
}

}  // namespace

void AddCancelCommand(CLI::App& app, CliContext& context) {
  auto run_id = std::make_shared<std::string>();
  auto* cancel = app.add_subcommand("cancel", "Cancel a running run: its running jobs stop, nothing of them is published");
  cancel->add_option("RUN", *run_id, "run id (from `sluice runs`)")->required();
  cancel->callback([&context, run_id] { context.action = [&context, run_id] { return CancelRun(context, *run_id); }; });
}

}  // namespace sluice::cli
