#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

#include "cli/cli_context.hpp"
#include "cli/output_format.hpp"
#include "common/strings.hpp"
#include "pipeline/cdc_job.hpp"
#include "pipeline/cdc_status.hpp"
#include "pipeline/job_runner.hpp"

namespace sluice::cli {
namespace {

struct CdcJobRef {
  const config::PipelineConfig* pipeline;
  const config::JobConfig* job;
};

std::vector<CdcJobRef> CdcJobs(const LoadedProject& loaded, const std::string& only) {
  std::vector<CdcJobRef> out;
  for (const auto& p : loaded.pipelines) {
    if (!only.empty() && p.name != only) continue;
    for (const auto& j : p.jobs) {
      if (j.mode == config::LoadMode::kCdc) out.push_back({&p, &j});
    }
  }
  return out;
}

Result<std::unique_ptr<connectors::ChangeCapture>> OpenCapture(const LoadedProject& loaded, const CdcJobRef& ref) {
  SLUICE_ASSIGN_OR_RETURN(auto source, pipeline::BindJobSource(*loaded.workspace, *ref.pipeline, *ref.job));
  return source->OpenChangeCapture();
}

std::string Seconds(double s) { return s < 10 ? fmt::format("{:.1f}", s) : fmt::format("{:.0f}", s); }

int RunStatus(CliContext& context, const std::string& only, const std::string& format) {
  auto loaded = LoadAll(context);
  if (!loaded.ok()) return ReportError(context, loaded.status());
  auto statuses = pipeline::CdcStatuses(*loaded->workspace, loaded->pipelines, only);
  if (statuses.empty()) {
    return ReportError(
        context, Status::NotFound("no pipeline {}with mode: cdc", only.empty() ? "" : fmt::format("'{}' ", only)));
  }
  nlohmann::json out = nlohmann::json::array();
  std::vector<engine::TextRow> rows;
  std::vector<std::string> warnings;
  bool failed = false;
  for (const auto& s : statuses) {
    nlohmann::json entry{{"pipeline", s.pipeline}, {"job", s.job}};
    if (!s.health) {
      failed = true;
      entry["error"] = s.error;
      rows.push_back({s.pipeline, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                      std::nullopt, std::nullopt, "error: " + s.error});
      out.push_back(entry);
      continue;
    }
    const auto& h = *s.health;
    entry.update({{"slot", h.slot},
                  {"publication", h.publication},
                  {"exists", h.exists},
                  {"plugin", h.plugin},
                  {"active", h.active},
                  {"active_pid", h.active_pid},
                  {"confirmed_flush_lsn", h.confirmed_flush_lsn},
                  {"committed_lsn", h.committed_lsn},
                  {"current_wal_lsn", h.current_wal_lsn},
                  {"lag_bytes", h.lag_bytes},
                  {"wal_status", h.wal_status}});
    entry["lag_seconds"] = h.lag_seconds ? nlohmann::json(*h.lag_seconds) : nlohmann::json(nullptr);
    entry["as_of"] =
        h.as_of_us > 0 ? nlohmann::json(FormatTimestampUtc(FromUnixMicros(h.as_of_us))) : nlohmann::json(nullptr);
    entry["safe_wal_size"] = h.safe_wal_size ? nlohmann::json(*h.safe_wal_size) : nlohmann::json(nullptr);
    if (!s.note.empty()) entry["note"] = s.note;
    if (s.warning) warnings.push_back(s.pipeline + ": " + s.note);
    out.push_back(entry);
    rows.push_back({s.pipeline, h.slot, h.exists ? (h.active ? "yes (pid " + h.active_pid + ")" : "no") : "-",
                    h.confirmed_flush_lsn, h.committed_lsn, std::to_string(h.lag_bytes),
                    h.lag_seconds ? std::optional<std::string>(Seconds(*h.lag_seconds)) : std::nullopt, h.wal_status,
                    h.safe_wal_size ? std::optional<std::string>(
                                          HumanBytes(static_cast<uint64_t>(std::max<int64_t>(0, *h.safe_wal_size))))
                                    : std::optional<std::string>("unlimited"),
                    s.note});
  }
  if (format == "json") {
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    PrintTable(stdout,
               {"pipeline", "slot", "active", "confirmed_lsn", "committed_lsn", "lag_bytes", "lag_seconds",
                "wal_status", "safe_wal_size", "note"},
               rows);
    for (const auto& w : warnings) std::fprintf(stderr, "%s\n", w.c_str());
  }
  return failed ? kExitFailed : kExitOk;
}

int RunDrop(CliContext& context, const std::string& name) {
  auto loaded = LoadAll(context);
  if (!loaded.ok()) return ReportError(context, loaded.status());
  auto jobs = CdcJobs(*loaded, name);
  if (jobs.empty()) return ReportError(context, Status::NotFound("pipeline '{}' has no job with mode: cdc", name));
  for (const auto& ref : jobs) {
    auto capture = OpenCapture(*loaded, ref);
    if (!capture.ok()) return ReportError(context, capture.status());
    std::string scope = pipeline::JobStateScope(ref.pipeline->name, ref.job->name);
    auto state = loaded->workspace->catalog().GetState(scope, pipeline::kCdcStateKey);
    if (!state.ok()) return ReportError(context, state.status());
    auto dropped = (*capture)->Drop(state->value_or(""));
    if (!dropped.ok()) return ReportError(context, dropped.status());
    // The stored position belonged to the dropped slot: the next run starts with a fresh copy.
    catalog::CommitRequest forget;
    forget.pipeline = ref.pipeline->name;
    forget.job = ref.job->name;
    forget.state.push_back({scope, pipeline::kCdcStateKey, std::nullopt});
    if (Status st = loaded->workspace->catalog().Commit(forget).status(); !st.ok()) return ReportError(context, st);
    std::printf(
        "%s: dropped %s\n", ref.pipeline->name.c_str(),
        dropped->empty() ? "nothing (sluice created neither slot nor publication)" : Join(*dropped, " and ").c_str());
  }
  return kExitOk;
}

}  // namespace

void AddCdcCommand(CLI::App& app, CliContext& context) {
  auto* cdc = app.add_subcommand("cdc", "Change data capture (mode: cdc): slot health and cleanup");
  cdc->require_subcommand(1);
  auto status_args = std::make_shared<std::pair<std::string, std::string>>("", "table");
  auto* status = cdc->add_subcommand("status", "Each cdc pipeline's slot: active, confirmed position, lag, WAL status");
  status->add_option("PIPELINE", status_args->first, "only this pipeline");
  status->add_option("--format", status_args->second, "table (default) or json")
      ->check(CLI::IsMember({"table", "json"}));
  status->callback([&context, status_args] {
    context.action = [&context, status_args] { return RunStatus(context, status_args->first, status_args->second); };
  });
  auto drop_name = std::make_shared<std::string>();
  auto* drop = cdc->add_subcommand(
      "drop", "Drop the slot and publication sluice created for PIPELINE (refused while it streams)");
  drop->add_option("PIPELINE", *drop_name, "the cdc pipeline")->required();
  drop->callback(
      [&context, drop_name] { context.action = [&context, drop_name] { return RunDrop(context, *drop_name); }; });
}

}  // namespace sluice::cli
