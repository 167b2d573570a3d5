#include "pipeline/cdc_status.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "common/strings.hpp"
#include "pipeline/cdc_job.hpp"
#include "pipeline/job_runner.hpp"

namespace sluice::pipeline {
namespace {

std::string Note(const CdcJobStatus& status, const nlohmann::json& state) {
  const auto& h = *status.health;
  bool started = state.is_object() && !state.value("lsn", "").empty();
  bool copying = started && !state.value("copied", true);
  if (!h.exists) {
    return started
               ? fmt::format("resnapshot needed: the slot is gone; run `sluice run {} --full-refresh`", status.pipeline)
               : "not started: the first `sluice run` creates the slot";
  }
  if (h.wal_status == "lost") {
    return fmt::format("resnapshot needed: the slot was invalidated; run `sluice run {} --full-refresh`",
                       status.pipeline);
  }
  if (h.safe_wal_size && *h.safe_wal_size < connectors::kLowSafeWalBytes) {
    return fmt::format(
        "warning: only {} of WAL left before max_slot_wal_keep_size invalidates the slot; run the "
        "pipeline (or raise the limit)",
        HumanBytes(static_cast<uint64_t>(std::max<int64_t>(0, *h.safe_wal_size))));
  }
  if (copying) return fmt::format("copy under way: `sluice run {}` resumes it", status.pipeline);
  return "";
}

/// A label value in the exposition format: backslash, double quote and newline escaped.
std::string Label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::vector<CdcJobStatus> CdcStatuses(Workspace& workspace, const std::vector<config::PipelineConfig>& pipelines,
                                      const std::string& only) {
  std::vector<CdcJobStatus> out;
  for (const auto& p : pipelines) {
    if (!only.empty() && p.name != only) continue;
    for (const auto& job : p.jobs) {
      if (job.mode != config::LoadMode::kCdc) continue;
      CdcJobStatus status;
      status.pipeline = p.name;
      status.job = job.name;
      auto state = workspace.catalog().GetState(JobStateScope(p.name, job.name), kCdcStateKey);
      std::string state_json = state.ok() && *state ? **state : "";
      Result<connectors::SlotHealth> health = state.status();
      if (state.ok()) {
        auto source = BindJobSource(workspace, p, job);
        auto capture = source.ok() ? (*source)->OpenChangeCapture()
                                   : Result<std::unique_ptr<connectors::ChangeCapture>>(source.status());
        health = capture.ok() ? (*capture)->Health(state_json) : Result<connectors::SlotHealth>(capture.status());
      }
      if (!health.ok()) {
        status.error = workspace.Redact(health.status().message());
        out.push_back(std::move(status));
        continue;
      }
      status.health = *health;
      status.note = Note(status, nlohmann::json::parse(state_json.empty() ? "{}" : state_json, nullptr, false));
      status.warning = status.note.rfind("warning", 0) == 0 || status.note.rfind("resnapshot", 0) == 0;
      out.push_back(std::move(status));
    }
  }
  return out;
}

std::string CdcMetricsText(const std::vector<CdcJobStatus>& statuses) {
  if (statuses.empty()) return "";
  struct Gauge {
    const char* name;
    const char* help;
  };
  static const Gauge kGauges[] = {
      {"sluice_cdc_up", "1 when the slot's server answered and the slot can stream (exists, not invalidated)."},
      {"sluice_cdc_slot_active", "1 while a process streams the slot."},
      {"sluice_cdc_lag_bytes", "WAL bytes the server has written past the slot's confirmed position."},
      {"sluice_cdc_lag_seconds",
       "Seconds the lake is behind the source: 0 when the server has written no WAL past the committed position, else "
       "the server's clock minus the source time up to which every change is committed."},
      {"sluice_cdc_safe_wal_bytes",
       "WAL bytes left before max_slot_wal_keep_size invalidates the slot (when limited)."},
  };
  std::string text;
  for (size_t g = 0; g < std::size(kGauges); ++g) {
    std::string lines;
    for (const auto& s : statuses) {
      std::string labels = fmt::format("pipeline=\"{}\",job=\"{}\",slot=\"{}\"", Label(s.pipeline), Label(s.job),
                                       Label(s.health ? s.health->slot : ""));
      const auto* h = s.health ? &*s.health : nullptr;
      std::optional<double> value;
      switch (g) {
        case 0: value = h != nullptr && h->exists && h->wal_status != "lost" ? 1 : 0; break;
        case 1:
          if (h != nullptr && h->exists) value = h->active ? 1 : 0;
          break;
        case 2:
          if (h != nullptr && h->exists) value = static_cast<double>(h->lag_bytes);
          break;
        case 3:
          if (h != nullptr && h->exists && h->lag_seconds) value = *h->lag_seconds;
          break;
        default:
          if (h != nullptr && h->exists && h->safe_wal_size) value = static_cast<double>(*h->safe_wal_size);
          break;
      }
      if (value) lines += fmt::format("{}{{{}}} {}\n", kGauges[g].name, labels, *value);
    }
    if (!lines.empty())
      text +=
          fmt::format("# HELP {} {}\n# TYPE {} gauge\n{}", kGauges[g].name, kGauges[g].help, kGauges[g].name, lines);
  }
  return text;
}

}  // namespace sluice::pipeline
