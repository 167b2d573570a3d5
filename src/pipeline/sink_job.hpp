#pragma once

#include <memory>
#include <string>

#include "config/pipeline.hpp"
#include "connectors/sink.hpp"
#include "pipeline/job_runner.hpp"
#include "pipeline/workspace.hpp"

namespace sluice::pipeline {

/// The catalog state key holding the id of the last sink load the catalog recorded.
inline constexpr const char* kSinkLoadKey = "sink_load";

/// A job's sink after resolving `type:` / `connection:`: the plug-in and its merged options
/// (the connection's keys the sink knows, then the target's own).
struct ResolvedSink {
  const connectors::SinkDescriptor* descriptor = nullptr;
  config::Value options;
  std::string connection_name;
  bool metadata_columns = false;  // add_metadata_columns: keep _source_file and add _loaded_at
};

Result<ResolvedSink> ResolveSink(const Workspace& workspace, const config::PipelineConfig& pipeline,
                                 const config::JobConfig& job);

/// Resolves and binds a job's sink (nothing written).
Result<std::unique_ptr<connectors::Sink>> BindJobSink(const Workspace& workspace,
                                                      const config::PipelineConfig& pipeline,
                                                      const config::JobConfig& job);

Result<std::unique_ptr<connectors::Sink>> BindResolvedSink(const config::ProjectConfig& project,
                                                           const config::PipelineConfig& pipeline,
                                                           const config::JobConfig& job, const ResolvedSink& resolved);

/// Source → steps → the sink's pending write, part by part → the sink's commit (with the job's
/// new state recorded in the target where the sink can) → one catalog commit of the job state
/// and any rows set aside. A failure before the sink's commit leaves the target as it was. A
/// crash between the two commits is repaired by the next run, which adopts the state the target
/// recorded instead of loading the same input again.
JobSummary RunSinkJob(JobRunContext& context, const config::JobConfig& job);

}  // namespace sluice::pipeline
