#pragma once

#include <atomic>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/types.hpp"
#include "common/ids.hpp"
#include "config/pipeline.hpp"
#include "pipeline/progress.hpp"
#include "pipeline/run_control.hpp"
#include "pipeline/workspace.hpp"

namespace sluice::pipeline {

/// What to run. The scheduler and the CLI both speak to pipeline/ only through this pair.
struct RunRequest {
  std::string pipeline;
  bool full_refresh = false;
  std::optional<std::string> only_job;
  std::string trigger = "manual";
  /// What caused the run, kept in its record (e.g. the files that arrived). Optional.
  std::string trigger_detail;
  /// The daemon queues a run before it starts and hands its queue id on as the run id; nullopt = a new id.
  std::optional<RunId> run_id;
  /// Cancelling it stops the running jobs (their statements are interrupted), skips the
  /// remaining ones and ends the run as cancelled. Optional.
  std::shared_ptr<RunCancellation> cancellation;
  /// mode: cdc jobs keep streaming (sluice run --follow, the continuous trigger) until
  /// `stop_following` is set; they then commit what they hold and succeed.
  bool follow = false;
  std::shared_ptr<std::atomic<bool>> stop_following;
};

struct RunOutcome {
  catalog::RunRecord record;
  std::vector<JobSummary> jobs;
};

/// NotFound, naming `pipeline`'s jobs with a hint, unless it has a job named `job`. Give the
/// pipeline as it runs (WithCatalogWindowJobs), so that jobs added with `sluice jobs add` count.
Status RequireJob(const config::PipelineConfig& pipeline, const std::string& job);

enum class CancelOutcome {
  kRequested,  // the run is running: it was asked to stop
  kDequeued,   // the run was still waiting in `sluice serve`'s queue: it is cancelled and will not start
};

struct CancelResult {
  CancelOutcome outcome = CancelOutcome::kRequested;
  RunId run_id;  // the whole id (the request may have given its start)
};

/// Cancels run `run_id_or_prefix` (or the one run whose id starts with it; several are an error naming them) of
/// this project (`sluice cancel RUN`, the API). A running run is asked to stop: the process running it
/// notices within a fraction of a second, interrupts its running jobs and ends the run as cancelled.
/// A run still waiting in the queue (given by its whole id) is taken out of it and recorded as
/// cancelled at once.
Result<CancelResult> RequestCancel(Workspace& workspace, const std::string& run_id_or_prefix);

class PipelineRunner {
 public:
  PipelineRunner(Workspace& workspace, std::vector<config::PipelineConfig> pipelines)
      : workspace_(workspace), pipelines_(std::move(pipelines)) {}

  /// Runs the pipeline's jobs as a DAG: a job starts once every upstream job has ended, runs when
  /// each ended as its depends_on condition asks (else it is recorded as skipped), and jobs that
  /// do not depend on each other run at the same time (up to defaults.max_parallel_jobs). A job
  /// failing with a retryable error runs again per its RetryPolicy; a job exceeding its timeout
  /// is interrupted and fails with a (retryable) timeout. The returned Status is an error only when the run could not
  /// start at all (unknown pipeline, lock held, catalog unreachable); job failures are in the outcome.
  Result<RunOutcome> Run(const RunRequest& request, ProgressListener* listener);

  /// Marks runs of `pipeline` that are recorded as running but whose process is gone as interrupted
  /// (`sluice serve` does so on start). Conflict when a live process runs the pipeline now.
  Status RecoverInterrupted(const std::string& pipeline);

  /// Binds every job's source without reading data (for `sluice validate`).
  Status Validate(const config::PipelineConfig& pipeline);

 private:
  void RecoverInterruptedRuns(const std::string& pipeline);
  /// One job with its retries and timeout, on the calling thread.
  JobSummary RunJobWithRetries(const config::PipelineConfig& pipeline, const config::JobConfig& job,
                               const RunRequest& request, const RunId& run_id, ProgressListener* listener);

  Workspace& workspace_;
  std::vector<config::PipelineConfig> pipelines_;
};

}  // namespace sluice::pipeline
