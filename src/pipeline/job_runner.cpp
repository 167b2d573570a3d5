#include "pipeline/job_runner.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "common/fault_point.hpp"
#include "common/strings.hpp"
#include "config/option_reader.hpp"
#include "pipeline/catalog_input.hpp"
#include "pipeline/cdc_job.hpp"
#include "pipeline/job_execution.hpp"
#include "pipeline/sink_job.hpp"
#include "pipeline/sql_job.hpp"
#include "transforms/masked_variant.hpp"

namespace sluice::pipeline {

JobExecution::JobExecution(JobRunContext& context, const config::JobConfig& job)
    : ctx_(context), job_(job), ws_(context.workspace) {
  summary_.job = job.name;
  summary_.table = JobTargetLabel(job);
}

JobSummary JobExecution::Run() {
  return TimedJob(
      ctx_, job_, &summary_, [this] { return Execute(); }, &uploaded_);
}

Status JobExecution::Execute() {
  SLUICE_FAULT_POINT("job_started");
  SLUICE_ASSIGN_OR_RETURN(chain_, TransformChain::Build(job_, ctx_.pipeline.name));
  SLUICE_ASSIGN_OR_RETURN(checks_, ChecksRunner::Build(job_, ctx_.pipeline.name));
  SLUICE_ASSIGN_OR_RETURN(auto policy_text,
                          config::OptionReader(job_.target.raw, config::TargetKeys()).String("schema_evolution"));
  auto policy = ParseSchemaChangePolicy(policy_text);
  if (!policy.ok()) return policy.status().WithContext("target of job '{}'", job_.name);
  policy_ = *policy;
  plan_.partition_by = job_.target.partition_by;
  plan_.write = job_.target.write;
  if (const auto* size = job_.target.raw.Find("file_size")) {
    SLUICE_ASSIGN_OR_RETURN(plan_.target_file_bytes, size->AsByteSize());
  }
  chain_.AdjustWrite(&plan_);
  SLUICE_ASSIGN_OR_RETURN(table_name_, catalog::TableName::Parse(summary_.table));
  SLUICE_ASSIGN_OR_RETURN(existing_, ws_.catalog().GetTable(table_name_));
  scope_ = JobStateScope(ctx_.pipeline.name, job_.name);
  scratch_.path = ws_.state_dir() / "staging" / ctx_.run_id.value / job_.name;
  loaded_at_ = ws_.clock().Now();
  if (ReadsCatalogTables(job_)) return ExecuteCatalogInput();
  return ExecuteConnector();
}

catalog::CommitRequest NewJobCommit(const JobRunContext& context, const config::JobConfig& job) {
  catalog::CommitRequest commit;
  commit.run_id = context.run_id;
  commit.pipeline = context.pipeline.name;
  commit.job = job.name;
  return commit;
}

Status NoNewInput(JobSummary* summary, std::string_view input) {
  summary->status = JobStatus::kNoChanges;
  summary->message = fmt::format("no new input ({})", input);
  return Status::OK();
}

JobSummary TimedJob(JobRunContext& context, const config::JobConfig& job, JobSummary* summary,
                    const std::function<Status()>& execute, const std::vector<connectors::StagedFile>* uploaded) {
  auto started = std::chrono::steady_clock::now();
  Status st = execute();
  summary->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!st.ok()) {
    // An interrupted statement fails with the engine's generic error; the reason is ours.
    if (Status reason = Interrupted(context.interrupt); !reason.ok()) st = reason;
    summary->retryable = st.retryable();
    if (!uploaded->empty()) connectors::DiscardUploaded(context.workspace.lake(), *uploaded);
    summary->status = JobStatus::kFailed;
    summary->message = context.workspace.Redact(
        st.WithContext("job '{}' of pipeline '{}'", job.name, context.pipeline.name).message());
    spdlog::error("{}", summary->message);
  }
  return *summary;
}

std::string JobTargetLabel(const config::JobConfig& job) {
  if (job.sql) return job.sql->connection;
  if (job.target.IsLake()) return job.target.zone + "." + job.target.table;
  return (job.target.connection.empty() ? job.target.type : job.target.connection) + ": " + job.target.table;
}

Status SinkTargetLimits(const config::JobConfig& job) {
  if (job.target.IsLake()) return Status::OK();
  auto refuse = [&](const char* key, const char* instead) {
    return Status::Invalid("{}: job '{}' writes outside the lake, where {}: does not apply yet; {}",
                           job.raw.KeyLocation(key).ToString(), job.name, key, instead);
  };
  if (!job.checks.IsNull()) return refuse("checks", "check the written table with a sql: job that fails on bad rows");
  if (!job.mask.IsNull()) return refuse("mask", "mask the columns with a - mask: step instead");
  if (job.mode == config::LoadMode::kChanges)
    return refuse("mode", "load the changed rows into the lake, then merge them into the database");
  if (job.mode == config::LoadMode::kCdc)
    return refuse("mode", "capture the changes into the lake, then merge them into the database");
  return Status::OK();
}

Status ValidateJob(const Workspace& workspace, const config::PipelineConfig& pipeline, const config::JobConfig& job) {
  if (job.sql) return ValidateSqlJob(workspace, pipeline, job);
  if (!ReadsCatalogTables(job)) SLUICE_TRY(BindJobSource(workspace, pipeline, job).status());
  if (!job.target.IsLake()) {
    SLUICE_TRY(SinkTargetLimits(job));
    SLUICE_TRY(BindJobSink(workspace, pipeline, job).status());
  }
  SLUICE_TRY(TransformChain::Build(job, pipeline.name).status());
  if (!job.mask.IsNull()) {
    SLUICE_TRY(transforms::ValidateJobMask(job.mask, job.name));
  }
  return ChecksRunner::Build(job, pipeline.name).status();
}

JobSummary RunJob(JobRunContext& context, const config::JobConfig& job) {
  if (job.sql) return RunSqlJob(context, job);
  if (job.mode == config::LoadMode::kCdc && job.target.IsLake()) return RunCdcJob(context, job);
  if (!job.target.IsLake()) {
    if (Status limits = SinkTargetLimits(job); !limits.ok()) {
      JobSummary refused;
      refused.job = job.name;
      refused.table = JobTargetLabel(job);
      refused.status = JobStatus::kFailed;
      refused.message = limits.message();
      return refused;
    }
    return RunSinkJob(context, job);
  }
  // A job that lost the race to its target is planned again on the new version: nothing of it
  // was published and its source state did not advance, so a fresh attempt is safe.
  constexpr int kAttemptsAfterLostRace = 3;
  for (int attempt = 1;; ++attempt) {
    JobExecution execution(context, job);
    JobSummary summary = execution.Run();
    if (!execution.lost_race()) return summary;
    if (attempt == kAttemptsAfterLostRace) {
      summary.message += fmt::format(
          " — {} attempts in a row lost the race to another writer; run the job again, and "
          "check `sluice validate` for other jobs writing {}",
          attempt, summary.table);
      return summary;
    }
    spdlog::warn("{}; planning the job again on the new version", summary.message);
  }
}

}  // namespace sluice::pipeline
