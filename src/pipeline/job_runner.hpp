#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "config/pipeline.hpp"
#include "connectors/sinks/lake/lake_sink.hpp"
#include "connectors/source.hpp"
#include "pipeline/progress.hpp"
#include "pipeline/run_control.hpp"
#include "pipeline/workspace.hpp"

namespace sluice::pipeline {

/// The catalog state scope of a job ("pipeline/job") and the key its source's checkpoint is kept under.
std::string JobStateScope(const std::string& pipeline, const std::string& job);
inline constexpr const char* kSourceStateKey = "source";

/// What a job's source resumes from: the inputs it consumed and its state, as the catalog has them.
Result<connectors::Checkpoint> LoadCheckpoint(catalog::MetadataStore& catalog, const std::string& scope);

/// The connection `name` of sluice.yaml; an error starting with `where` (with a nearest-name hint) when
/// there is none.
Result<const config::Value*> FindConnection(const Workspace& workspace, const std::string& name,
                                            const std::string& where);

/// What a job writes, for run records and messages: "raw.orders", or "warehouse: orders" outside the lake.
std::string JobTargetLabel(const config::JobConfig& job);

/// The job keys that apply only to lake targets (checks, mask, mode: changes), refused with a
/// message naming the key when the target is outside the lake.
Status SinkTargetLimits(const config::JobConfig& job);

/// A job's source after resolving `type:` / `connection:`: the plug-in and its merged options.
struct ResolvedSource {
  const connectors::SourceDescriptor* descriptor = nullptr;
  config::Value options;
  std::string connection_name;
};

Result<ResolvedSource> ResolveSource(const Workspace& workspace, const config::PipelineConfig& pipeline,
                                     const config::JobConfig& job);

/// Resolves and binds a job's source (no data read).
Result<std::unique_ptr<connectors::Source>> BindJobSource(const Workspace& workspace,
                                                          const config::PipelineConfig& pipeline,
                                                          const config::JobConfig& job);

/// Checks a job without reading data: its source binds (or its catalog-table source is well
/// formed), its steps and checks build.
Status ValidateJob(const Workspace& workspace, const config::PipelineConfig& pipeline, const config::JobConfig& job);

struct JobRunContext {
  Workspace& workspace;
  const config::PipelineConfig& pipeline;
  std::string run_id;
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

/// Runs `execute` timing it into `summary`; a failure becomes status failed with the reason (the
/// interrupt's when the job was stopped), retryability and a redacted message naming job and
/// pipeline, after the files the job had `uploaded` to the lake but not published are removed.
JobSummary TimedJob(JobRunContext& context, const config::JobConfig& job, JobSummary* summary,
                    const std::function<Status()>& execute, const std::vector<connectors::StagedFile>* uploaded);

/// Source → staging Parquet → upload → one catalog commit (data, rejects, loaded inputs, state).
/// Never leaves a partial table version: on any failure before the commit, nothing is published.
JobSummary RunJob(JobRunContext& context, const config::JobConfig& job);

}  // namespace sluice::pipeline
