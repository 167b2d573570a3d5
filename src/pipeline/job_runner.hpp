#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>

#include "common/ids.hpp"
#include "config/pipeline.hpp"
#include "connectors/sinks/lake/lake_sink.hpp"
#include "connectors/source.hpp"
#include "pipeline/progress.hpp"
#include "pipeline/run_control.hpp"
#include "pipeline/source_binding.hpp"
#include "pipeline/workspace.hpp"

namespace sluice::pipeline {

/// What a job writes, for run records and messages: "raw.orders", or "warehouse: orders" outside the lake.
std::string JobTargetLabel(const config::JobConfig& job);

/// The job keys that apply only to lake targets (checks, mask, mode: changes), refused with a
/// message naming the key when the target is outside the lake.
Status SinkTargetLimits(const config::JobConfig& job);

/// Checks a job without reading data: its source binds (or its catalog-table source is well
/// formed), its steps and checks build.
Status ValidateJob(const Workspace& workspace, const config::PipelineConfig& pipeline, const config::JobConfig& job);

struct JobRunContext {
  Workspace& workspace;
  const config::PipelineConfig& pipeline;
  RunId run_id;
  bool full_refresh = false;
  ProgressListener* listener = nullptr;
  JobInterrupt* interrupt = nullptr;  // lets the runner stop the job (timeout, cancellation)
  /// mode: cdc: keep streaming until `stop_following` is set, instead of stopping once caught up.
  bool follow = false;
  const std::atomic<bool>* stop_following = nullptr;
  /// Read the source in this exported snapshot (mode: cdc's initial copy); "" = its own.
  std::string source_snapshot;
  /// mode: cdc's copy: its steps only add constant columns (each row by itself), so the load stays
  /// resumable by chunks; and a pending load is resumed even under full_refresh (the cdc job clears
  /// stale ones when a copy starts).
  bool snapshot_copy = false;
  /// More job state for the job's final commit (mode: cdc: which tables the copy has finished).
  std::vector<catalog::StateUpdate> commit_state;
};

/// An empty catalog commit of `job` in this run (run id, pipeline and job filled in).
catalog::CommitRequest NewJobCommit(const JobRunContext& context, const config::JobConfig& job);

/// Ends a job that found nothing new to read: status no_changes, "no new input (<input>)". Returns OK,
/// for the job to return.
Status NoNewInput(JobSummary* summary, std::string_view input);

/// Runs `execute` timing it into `summary`; a failure becomes status failed with the reason (the
/// interrupt's when the job was stopped), retryability and a redacted message naming job and
/// pipeline, after the files the job had `uploaded` to the lake but not published are removed.
JobSummary TimedJob(JobRunContext& context, const config::JobConfig& job, JobSummary* summary,
                    const std::function<Status()>& execute, const std::vector<connectors::StagedFile>* uploaded);

/// Source → staging Parquet → upload → one catalog commit (data, rejects, loaded inputs, state).
/// Never leaves a partial table version: on any failure before the commit, nothing is published.
JobSummary RunJob(JobRunContext& context, const config::JobConfig& job);

}  // namespace sluice::pipeline
