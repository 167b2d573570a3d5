#pragma once

#include <optional>
#include <string>
#include <vector>

#include "catalog/types.hpp"
#include "config/pipeline.hpp"
#include "pipeline/progress.hpp"
#include "pipeline/workspace.hpp"

namespace sluice::pipeline {

/// What to run. The scheduler and the CLI both speak to pipeline/ only through this pair.
struct RunRequest {
  std::string pipeline;
  bool full_refresh = false;
  std::optional<std::string> only_job;
  std::string trigger = "manual";
};

struct RunOutcome {
  catalog::RunRecord record;
  std::vector<JobSummary> jobs;
};

class PipelineRunner {
 public:
  PipelineRunner(Workspace& workspace, std::vector<config::PipelineConfig> pipelines)
      : workspace_(workspace), pipelines_(std::move(pipelines)) {}

  /// Runs the pipeline's jobs in dependency order. A failed job fails the run and skips the jobs
  /// depending on it. The returned Status is an error only when the run could not start at all
  /// (unknown pipeline, lock held, catalog unreachable); job failures are in the outcome.
  Result<RunOutcome> Run(const RunRequest& request, ProgressListener* listener);

  /// Binds every job's source without reading data (for `sluice validate`).
  Status Validate(const config::PipelineConfig& pipeline);

 private:
  void RecoverInterruptedRuns(const std::string& pipeline);

  Workspace& workspace_;
  std::vector<config::PipelineConfig> pipelines_;
};

}  // namespace sluice::pipeline
