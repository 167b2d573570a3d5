#include "pipeline/runner.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <nlohmann/json.hpp>

#include "common/ids.hpp"
#include "common/logging.hpp"
#include "common/strings.hpp"
#include "pipeline/job_runner.hpp"
#include "pipeline/pipeline_lock.hpp"

namespace sluice::pipeline {
namespace {

const config::PipelineConfig* FindPipeline(const std::vector<config::PipelineConfig>& pipelines,
                                           const std::string& name) {
  for (const auto& p : pipelines) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

nlohmann::json SummaryJson(const JobSummary& s) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : s.checks) {
    checks.push_back({{"check", c.check},
                      {"severity", c.severity},
                      {"status", c.status},
                      {"failed_rows", c.failed_rows},
                      {"detail", c.detail}});
  }
  return {{"job", s.job},
          {"status", s.status},
          {"table", s.table},
          {"rows_read", s.rows_read},
          {"rows_written", s.rows_written},
          {"rows_rejected", s.rows_rejected},
          {"bytes_written", s.bytes_written},
          {"files_written", s.files_written},
          {"table_version", s.table_version},
          {"seconds", s.seconds},
          {"message", s.message},
          {"checks", checks}};
}

/// A dependent job runs only when each upstream job ended as its condition asks.
bool ConditionMet(const std::string& condition, const std::string& upstream_status) {
  bool ok = upstream_status == "succeeded" || upstream_status == "no_changes";
  if (condition == "always") return upstream_status != "skipped";
  if (condition == "failure") return upstream_status == "failed";
  return ok;
}

}  // namespace

void PipelineRunner::RecoverInterruptedRuns(const std::string& pipeline) {
  // Called with the pipeline's lock held: any other run of it still marked running has died
  // (killed, power loss) before it could record its end.
  auto runs = workspace_.catalog().ListRuns(0, pipeline);
  if (!runs.ok()) {
    spdlog::warn("could not check for interrupted runs of '{}': {}", pipeline, runs.status().message());
    return;
  }
  for (auto run : *runs) {
    if (run.status != catalog::RunStatus::kRunning) continue;
    run.status = catalog::RunStatus::kInterrupted;
    run.finished_at = workspace_.clock().Now();
    if (run.error.empty()) run.error = "the process ended before the run finished; nothing of it was published";
    Status st = workspace_.catalog().UpdateRun(run);
    if (!st.ok()) spdlog::warn("could not mark run {} interrupted: {}", run.id, st.message());
    std::error_code ec;
    std::filesystem::remove_all(workspace_.state_dir() / "staging" / run.id.value, ec);
    spdlog::warn("run {} of '{}' was interrupted earlier; marked as such", run.id, pipeline);
  }
}

Status PipelineRunner::Validate(const config::PipelineConfig& pipeline) {
  std::vector<std::string> errors;
  for (const auto& job : pipeline.jobs) {
    Status valid = ValidateJob(workspace_, pipeline, job);
    if (!valid.ok()) errors.push_back(valid.message());
  }
  if (errors.empty()) return Status::OK();
  return Status::Invalid("{}", Join(errors, "\n"));
}

Result<RunOutcome> PipelineRunner::Run(const RunRequest& request, ProgressListener* listener) {
  const auto* pipeline = FindPipeline(pipelines_, request.pipeline);
  if (pipeline == nullptr) {
    std::vector<std::string> names;
    for (const auto& p : pipelines_) names.push_back(p.name);
    std::string hint = NearestWord(request.pipeline, names);
    return Status::Invalid("no pipeline named '{}' in {}/pipelines{}; known: {}", request.pipeline,
                           workspace_.project().root.string(),
                           hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint),
                           names.empty() ? "(none)" : Join(names, ", "));
  }
  if (request.only_job) {
    bool found = false;
    for (const auto& j : pipeline->jobs) found |= j.name == *request.only_job;
    if (!found) return Status::Invalid("pipeline '{}' has no job '{}'", pipeline->name, *request.only_job);
  }
  // Configuration mistakes are reported before anything starts, as usage errors (exit code 2).
  SLUICE_TRY(Validate(*pipeline));
  SLUICE_ASSIGN_OR_RETURN(auto lock, PipelineLock::TryAcquire(workspace_.state_dir() / "locks", pipeline->name));

  RecoverInterruptedRuns(pipeline->name);

  RunOutcome outcome;
  auto& record = outcome.record;
  record.id = NewRunId(workspace_.clock());
  record.pipeline = pipeline->name;
  record.job = request.only_job.value_or("");
  record.env = workspace_.project().env;
  record.trigger = request.trigger;
  record.status = catalog::RunStatus::kRunning;
  record.started_at = workspace_.clock().Now();
  SLUICE_TRY(workspace_.catalog().InsertRun(record));

  std::error_code ec;
  std::filesystem::create_directories(workspace_.RunLogPath(record.id.value).parent_path(), ec);
  auto capture = LogCapture::ToFile(workspace_.RunLogPath(record.id.value).string());
  spdlog::info("run {} of pipeline '{}' started{}", record.id, pipeline->name,
               request.full_refresh ? " (full refresh)" : "");

  std::map<std::string, std::string> job_status;
  bool any_failed = false, any_work = false;
  for (const auto& job : pipeline->jobs) {
    if (request.only_job && job.name != *request.only_job) continue;
    bool runnable = true;
    for (const auto& [upstream, condition] : job.depends_on_conditions) {
      auto it = job_status.find(upstream);
      // With --job, upstream jobs were not part of this run: their last outcome is not ours to judge.
      if (it == job_status.end()) continue;
      if (!ConditionMet(condition, it->second)) runnable = false;
    }
    JobSummary summary;
    if (!runnable) {
      summary.job = job.name;
      summary.table = job.target.zone + "." + job.target.table;
      summary.status = "skipped";
      summary.message = "an upstream job did not end as depends_on requires";
      if (listener) listener->OnJobFinish(summary);
    } else {
      JobRunContext context{workspace_, *pipeline, record.id.value, request.full_refresh, listener};
      summary = RunJob(context, job);
      if (listener) listener->OnJobFinish(summary);
    }
    job_status[job.name] = summary.status;
    any_failed |= summary.status == "failed";
    any_work |= summary.status == "succeeded";
    record.rows_read += summary.rows_read;
    record.rows_written += summary.rows_written;
    record.rows_rejected += summary.rows_rejected;
    record.bytes_written += summary.bytes_written;
    record.files_written += summary.files_written;
    if (summary.status == "failed" && record.error.empty()) record.error = summary.message;
    outcome.jobs.push_back(std::move(summary));
  }

  std::filesystem::remove_all(workspace_.state_dir() / "staging" / record.id.value, ec);

  record.status = any_failed ? catalog::RunStatus::kFailed
                  : any_work ? catalog::RunStatus::kSucceeded
                             : catalog::RunStatus::kNoChanges;
  record.finished_at = workspace_.clock().Now();
  nlohmann::json details = {{"jobs", nlohmann::json::array()}, {"full_refresh", request.full_refresh}};
  for (const auto& s : outcome.jobs) details["jobs"].push_back(SummaryJson(s));
  record.details_json = details.dump();
  spdlog::info("run {} of pipeline '{}' {}: {} rows written, {} rejected", record.id, pipeline->name,
               catalog::RunStatusName(record.status), record.rows_written, record.rows_rejected);
  Status saved = workspace_.catalog().UpdateRun(record);
  if (!saved.ok()) spdlog::error("could not save run record {}: {}", record.id, saved.message());
  return outcome;
}

}  // namespace sluice::pipeline
