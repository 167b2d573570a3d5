#include <fmt/chrono.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/cli_context.hpp"
#include "cli/output_format.hpp"
#include "common/strings.hpp"

namespace sluice::cli {
namespace {

std::string Duration(const catalog::RunRecord& r) {
  if (!r.finished_at) return "running";
  return fmt::format("{:.1f}s", std::chrono::duration<double>(*r.finished_at - r.started_at).count());
}

int ListRuns(CliContext& context, int limit, const std::string& pipeline) {
  auto loaded = LoadAll(context, false);
  if (!loaded.ok()) return ReportError(context, loaded.status());
  auto runs = loaded->workspace->catalog().ListRuns(limit, pipeline);
  if (!runs.ok()) return ReportError(context, runs.status());
  std::vector<engine::TextRow> rows;
  for (const auto& r : *runs) {
    std::string error = r.error.size() > 60 ? r.error.substr(0, 57) + "..." : r.error;
    rows.push_back({r.id.value, r.pipeline, catalog::RunStatusName(r.status), ShortTime(r.started_at), Duration(r),
                    std::to_string(r.rows_written), std::to_string(r.rows_rejected), error});
  }
  PrintTable(stdout, {"run", "pipeline", "status", "started", "took", "rows", "rejected", "error"}, rows);
  return kExitOk;
}

Result<catalog::RunRecord> FindRun(LoadedProject& loaded, const std::string& id) {
  SLUICE_ASSIGN_OR_RETURN(auto run, loaded.workspace->catalog().GetRun(id));
  if (!run) return Status::NotFound("no run '{}'; `sluice runs` lists recent runs", id);
  return *run;
}

int ShowRun(CliContext& context, const std::string& id) {
  auto loaded = LoadAll(context, false);
  if (!loaded.ok()) return ReportError(context, loaded.status());
  auto run = FindRun(*loaded, id);
  if (!run.ok()) return ReportError(context, run.status());
  const auto& r = *run;
  fmt::print("run:       {}\npipeline:  {}\nstatus:    {}\ntrigger:   {}\nenv:       {}\n", r.id, r.pipeline,
             catalog::RunStatusName(r.status), r.trigger, r.env.empty() ? "(default)" : r.env);
  fmt::print("started:   {}\ntook:      {}\n", ShortTime(r.started_at), Duration(r));
  fmt::print("rows:      {} read, {} written, {} rejected\nwritten:   {} in {} files\n", r.rows_read, r.rows_written,
             r.rows_rejected, HumanBytes(static_cast<uint64_t>(r.bytes_written)), r.files_written);
  if (!r.error.empty()) fmt::print("error:     {}\n", context.redactor->Apply(r.error));
  auto details = nlohmann::json::parse(r.details_json, nullptr, false);
  if (!details.is_discarded() && details.contains("jobs")) {
    std::vector<engine::TextRow> rows;
    for (const auto& j : details["jobs"]) {
      rows.push_back({j.value("job", ""), j.value("status", ""), j.value("table", ""),
                      std::to_string(j.value("rows_written", 0)), std::to_string(j.value("rows_rejected", 0)),
                      fmt::format("{:.2f}s", j.value("seconds", 0.0)), j.value("message", "")});
    }
    fmt::print("\n");
    PrintTable(stdout, {"job", "status", "table", "rows", "rejected", "took", "note"}, rows);
    std::vector<engine::TextRow> windows;
    for (const auto& j : details["jobs"]) {
      if (!j.contains("window") || !j["window"].is_object()) continue;
      const auto& w = j["window"];
      windows.push_back({j.value("job", ""), w.value("column", ""), w.value("start", ""), w.value("stop", "")});
    }
    if (!windows.empty()) {
      fmt::print("\nwindows read (column >= start and < stop):\n");
      PrintTable(stdout, {"job", "column", "start", "stop"}, windows);
    }
    std::vector<engine::TextRow> checks;
    for (const auto& j : details["jobs"]) {
      if (!j.contains("checks")) continue;
      for (const auto& c : j["checks"]) {
        checks.push_back({j.value("job", ""), c.value("check", ""), c.value("severity", ""), c.value("status", ""),
                          std::to_string(c.value("failed_rows", 0)), c.value("detail", "")});
      }
    }
    if (!checks.empty()) {
      fmt::print("\nchecks:\n");
      PrintTable(stdout, {"job", "check", "severity", "status", "failed rows", "detail"}, checks);
    }
  }
  fmt::print("\nlog: {}\n", loaded->workspace->RunLogPath(r.id).string());
  return kExitOk;
}

int ShowLogs(CliContext& context, const std::string& id, bool follow) {
  auto loaded = LoadAll(context, false);
  if (!loaded.ok()) return ReportError(context, loaded.status());
  auto run = FindRun(*loaded, id);
  if (!run.ok()) return ReportError(context, run.status());
  auto path = loaded->workspace->RunLogPath(run->id);
  std::ifstream in(path);
  if (!in) return ReportError(context, Status::NotFound("run {} has no log file at {}", run->id, path.string()));
  std::string line;
  while (true) {
    while (std::getline(in, line)) fmt::print("{}\n", line);
    if (!follow) break;
    auto latest = loaded->workspace->catalog().GetRun(run->id.value);
    in.clear();
    if (!latest.ok() || !*latest || (*latest)->status != catalog::RunStatus::kRunning) {
      while (std::getline(in, line)) fmt::print("{}\n", line);
      break;
    }
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return kExitOk;
}

}  // namespace

void AddRunsCommands(CLI::App& app, CliContext& context) {
  struct Args {
    int limit = 20;
    std::string pipeline, run_id;
    bool follow = false;
  };
  auto args = std::make_shared<Args>();
  auto* runs = app.add_subcommand("runs", "List recent runs, or `runs show RUN` for one run's details");
  runs->add_option("--limit,-n", args->limit, "how many runs (default 20)");
  runs->add_option("--pipeline", args->pipeline, "only runs of this pipeline");
  auto* show = runs->add_subcommand("show", "Show one run: status, counts, per-job results, error");
  show->add_option("RUN", args->run_id, "run id (a unique prefix is enough)")->required();
  show->callback([&context, args] { context.action = [&context, args] { return ShowRun(context, args->run_id); }; });
  auto* list = runs->add_subcommand("list", "List recent runs (the same as `sluice runs`)");
  list->add_option("--limit,-n", args->limit, "how many runs (default 20)");
  list->add_option("--pipeline", args->pipeline, "only runs of this pipeline (stream flushes: stream:NAME)");
  runs->callback([&context, args, show] {
    if (show->parsed()) return;
    context.action = [&context, args] { return ListRuns(context, args->limit, args->pipeline); };
  });
  auto* logs = app.add_subcommand("logs", "Print a run's log lines");
  logs->add_option("RUN", args->run_id, "run id (a unique prefix is enough)")->required();
  logs->add_flag("--follow,-f", args->follow, "keep printing until the run ends");
  logs->callback([&context, args] {
    context.action = [&context, args] { return ShowLogs(context, args->run_id, args->follow); };
  });
}

}  // namespace sluice::cli
