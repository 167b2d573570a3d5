#include "pipeline/runner.hpp"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "common/fault_point.hpp"
#include "common/ids.hpp"
#include "common/logging.hpp"
#include "common/strings.hpp"
#include "pipeline/job_runner.hpp"
#include "pipeline/pipeline_lock.hpp"
#include "pipeline/window_jobs.hpp"

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
                      {"status", ToString(c.status)},
                      {"failed_rows", c.failed_rows},
                      {"detail", c.detail}});
  }
  nlohmann::json json = {{"job", s.job},
                         {"status", ToString(s.status)},
                         {"table", s.table},
                         {"rows_read", s.rows_read},
                         {"rows_written", s.rows_written},
                         {"rows_rejected", s.rows_rejected},
                         {"bytes_written", s.bytes_written},
                         {"files_written", s.files_written},
                         {"table_version", s.table_version},
                         {"seconds", s.seconds},
                         {"attempts", s.attempts},
                         {"message", s.message},
                         {"checks", checks}};
  if (s.window) json["window"] = {{"column", s.window->column}, {"start", s.window->start}, {"stop", s.window->stop}};
  return json;
}

/// A dependent job runs only when each upstream job ended as its condition asks.
bool ConditionMet(config::DependencyCondition condition, JobStatus upstream_status) {
  switch (condition) {
    case config::DependencyCondition::kSuccess:
      return upstream_status == JobStatus::kSucceeded || upstream_status == JobStatus::kNoChanges;
    case config::DependencyCondition::kFailure: return upstream_status == JobStatus::kFailed;
    case config::DependencyCondition::kAlways: return upstream_status != JobStatus::kSkipped;
  }
  return false;
}

JobSummary NotRunSummary(const config::JobConfig& job, JobStatus status, std::string message) {
  JobSummary summary;
  summary.job = job.name;
  summary.table = JobTargetLabel(job);
  summary.status = status;
  summary.message = std::move(message);
  summary.attempts = 0;
  return summary;
}

/// `run()`, or a failed summary of `job` when it throws: a job's exception fails that job, never
/// the process (an exception leaving a thread's entry point ends it).
JobSummary CatchingThrows(const config::JobConfig& job, const std::function<JobSummary()>& run) {
  try {
    return run();
  } catch (const std::exception& e) {
    spdlog::error("job '{}' stopped on an unexpected error: {}", job.name, e.what());
    return NotRunSummary(job, JobStatus::kFailed, fmt::format("the job stopped on an unexpected error: {}", e.what()));
  } catch (...) {
    spdlog::error("job '{}' stopped on an unexpected error", job.name);
    return NotRunSummary(job, JobStatus::kFailed, "the job stopped on an unexpected error");
  }
}

/// Runs `jobs` (in topological order) as a DAG with at most `max_parallel` at once. A job whose
/// upstream jobs (within this run) have all ended either runs — when each ended as its condition
/// asks — or is recorded as skipped; with the run cancelled, jobs not yet started are cancelled.
std::map<std::string, JobSummary> RunDag(const std::vector<const config::JobConfig*>& jobs, size_t max_parallel,
                                         const RunRequest& request,
                                         const std::function<JobSummary(const config::JobConfig&)>& run_job,
                                         ProgressListener* listener) {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::string, JobSummary> finished;
  std::map<std::string, bool> started;
  std::vector<std::thread> threads;
  size_t running = 0;
  std::set<std::string> in_run;
  for (const auto* job : jobs) in_run.insert(job->name);
  uint64_t log_capture = LogCapture::Current();

  std::unique_lock lock(mutex);
  while (finished.size() < jobs.size()) {
    bool progressed = false;
    for (const auto* job : jobs) {
      if (started[job->name]) continue;
      bool ready = true, runnable = true;
      for (const auto& [upstream, condition] : job->depends_on_conditions) {
        // With --job, upstream jobs are not part of this run: their last outcome is not ours to judge.
        if (in_run.count(upstream) == 0) continue;
        auto it = finished.find(upstream);
        if (it == finished.end()) {
          ready = false;
          break;
        }
        if (!ConditionMet(condition, it->second.status)) runnable = false;
      }
      if (!ready) continue;
      if (request.cancellation && request.cancellation->cancelled()) {
        started[job->name] = true;
        finished[job->name] =
            NotRunSummary(*job, JobStatus::kCancelled, "not started: " + request.cancellation->reason());
        if (listener) listener->OnJobFinish(finished[job->name]);
        progressed = true;
        continue;
      }
      if (!runnable) {
        started[job->name] = true;
        finished[job->name] =
            NotRunSummary(*job, JobStatus::kSkipped, "an upstream job did not end as depends_on requires");
        if (listener) listener->OnJobFinish(finished[job->name]);
        progressed = true;
        continue;
      }
      if (running >= max_parallel) continue;
      started[job->name] = true;
      ++running;
      progressed = true;
      threads.emplace_back([&, job] {
        LogCaptureScope log_scope(log_capture);
        JobSummary summary = CatchingThrows(*job, [&] { return run_job(*job); });
        std::lock_guard guard(mutex);
        finished[job->name] = std::move(summary);
        --running;
        changed.notify_all();
      });
    }
    // Skips and cancellations may have made other jobs ready; otherwise wait for a running job.
    if (!progressed && finished.size() < jobs.size()) changed.wait(lock);
  }
  lock.unlock();
  for (auto& t : threads) t.join();
  return finished;
}

Status ValidateJobs(Workspace& workspace, const config::PipelineConfig& pipeline) {
  std::vector<std::string> errors;
  for (const auto& job : pipeline.jobs) {
    Status valid = ValidateJob(workspace, pipeline, job);
    if (!valid.ok()) errors.push_back(valid.message());
  }
  if (errors.empty()) return Status::OK();
  return Status::Invalid("{}", Join(errors, "\n"));
}

std::filesystem::path CancelRequestPath(const std::filesystem::path& state_dir, const RunId& run_id) {
  return state_dir / "cancel" / run_id.value;
}

/// Turns a cancel request file (written by another process) into a cancellation of this run.
class CancelRequestWatcher {
 public:
  CancelRequestWatcher(std::filesystem::path request, std::shared_ptr<RunCancellation> cancellation)
      : request_(std::move(request)), cancellation_(std::move(cancellation)) {
    thread_ = std::thread([this] {
      try {
        std::unique_lock lock(mutex_);
        while (!cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stop_; })) {
          std::error_code ec;
          if (std::filesystem::exists(request_, ec)) {
            cancellation_->Cancel("cancelled by `sluice cancel`");
            spdlog::info("run {}: cancel requested; its jobs stop and publish nothing", request_.filename().string());
            return;
          }
        }
      } catch (const std::exception& e) {
        spdlog::error("watching for a cancel request stopped: {}", e.what());
      }
    });
  }
  ~CancelRequestWatcher() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
    std::error_code ec;
    std::filesystem::remove(request_, ec);
  }

 private:
  std::filesystem::path request_;
  std::shared_ptr<RunCancellation> cancellation_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

Result<CancelResult> CancelQueued(Workspace& workspace, const catalog::QueuedRun& queued) {
  catalog::RunRecord cancelled;
  cancelled.id = queued.id;
  cancelled.pipeline = queued.pipeline;
  cancelled.env = workspace.project().env;
  cancelled.trigger = queued.trigger;
  cancelled.status = catalog::RunStatus::kCancelled;
  cancelled.started_at = queued.enqueued_at;
  cancelled.finished_at = workspace.clock().Now();
  cancelled.error = "cancelled while it waited in the queue; it never started";
  nlohmann::json details = nlohmann::json::object();
  if (!queued.detail.empty()) details["trigger_detail"] = queued.detail;
  cancelled.details_json = details.dump();
  SLUICE_ASSIGN_OR_RETURN(bool dequeued, workspace.catalog().CancelQueuedRun(cancelled));
  if (dequeued) return CancelResult{CancelOutcome::kDequeued, queued.id};
  // A worker claimed it between our two looks; its run record appears as the run starts.
  return Status::Unavailable("run {} of '{}' is starting right now; cancel it again in a moment", queued.id,
                             queued.pipeline);
}

}  // namespace

Status RequireJob(const config::PipelineConfig& pipeline, const std::string& job) {
  std::vector<std::string> names;
  for (const auto& j : pipeline.jobs) {
    if (j.name == job) return Status::OK();
    names.push_back(j.name);
  }
  return Status::NotFound("pipeline '{}' has no job '{}'{}; its jobs: {}", pipeline.name, job, DidYouMean(job, names),
                          Join(names, ", "));
}

Result<CancelResult> RequestCancel(Workspace& workspace, const std::string& run_id_or_prefix) {
  SLUICE_ASSIGN_OR_RETURN(auto run, workspace.catalog().GetRun(run_id_or_prefix));
  if (!run) {
    SLUICE_ASSIGN_OR_RETURN(auto queued, workspace.catalog().GetQueuedRun(run_id_or_prefix));
    if (queued && queued->state != catalog::QueueState::kDone) return CancelQueued(workspace, *queued);
    return Status::NotFound("no run '{}'; `sluice runs` lists recent runs (a queued run needs its whole id)",
                            run_id_or_prefix);
  }
  // The run watches the request under its whole id, whatever start of it the caller gave.
  const RunId& full_id = run->id;
  if (run->status != catalog::RunStatus::kRunning) {
    return Status::Invalid("run {} of '{}' is not running (it is {}); nothing to cancel", full_id, run->pipeline,
                           catalog::RunStatusName(run->status));
  }
  auto path = CancelRequestPath(workspace.state_dir(), full_id);
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  std::ofstream out(path);
  out << "cancel\n";
  if (!out) return Status::IoError("cannot write the cancel request '{}'", path.string());
  return CancelResult{CancelOutcome::kRequested, full_id};
}

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

Status PipelineRunner::RecoverInterrupted(const std::string& pipeline) {
  SLUICE_ASSIGN_OR_RETURN(auto lock, PipelineLock::TryAcquire(workspace_.state_dir() / "locks", pipeline));
  RecoverInterruptedRuns(pipeline);
  return Status::OK();
}

JobSummary PipelineRunner::RunJobWithRetries(const config::PipelineConfig& pipeline, const config::JobConfig& job,
                                             const RunRequest& request, const RunId& run_id,
                                             ProgressListener* listener) {
  const auto& defaults = workspace_.project().defaults;
  auto policy = RetryPolicy::ForJob(job, defaults);
  auto timeout = JobTimeout(job, defaults);
  if (!policy.ok() || !timeout.ok()) {
    Status st = policy.ok() ? timeout.status() : policy.status();
    return NotRunSummary(job, JobStatus::kFailed, st.message());
  }
  for (int64_t attempt = 1;; ++attempt) {
    JobInterrupt interrupt;
    interrupt.Follow(request.cancellation);
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    // Watches the attempt: interrupts it at its deadline or when the run is cancelled.
    std::thread watchdog([&] {
      auto deadline = std::chrono::steady_clock::now() + *timeout;
      std::unique_lock lock(mutex);
      while (!done) {
        auto slice = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
        if (timeout->count() > 0 && deadline < slice) slice = deadline;
        done_cv.wait_until(lock, slice, [&] { return done; });
        if (done) break;
        if (request.cancellation && request.cancellation->cancelled()) {
          interrupt.Trigger(Status::Cancelled("cancelled: {}", request.cancellation->reason()));
          break;
        }
        if (timeout->count() > 0 && std::chrono::steady_clock::now() >= deadline) {
          interrupt.Trigger(
              Status::Timeout("ran longer than its timeout of {:.3g}s and was stopped; raise timeout: of the job in {}",
                              std::chrono::duration<double>(*timeout).count(), pipeline.file.string()));
          (void)fault::Hit("job_timed_out");  // lets a test hold the job until its timeout has fired
          break;
        }
      }
    });
    JobRunContext context{workspace_, pipeline, run_id, request.full_refresh, listener, &interrupt};
    context.follow = request.follow;
    context.stop_following = request.stop_following.get();
    JobSummary summary = CatchingThrows(job, [&] { return RunJob(context, job); });
    summary.message = workspace_.Redact(summary.message);  // notes ("no new input (files matching …)") too
    {
      std::lock_guard lock(mutex);
      done = true;
    }
    done_cv.notify_all();
    watchdog.join();
    summary.attempts = attempt;
    if (summary.status == JobStatus::kFailed && interrupt.reason().code() == StatusCode::kCancelled) {
      summary.status = JobStatus::kCancelled;
    }
    bool cancelled = request.cancellation && request.cancellation->cancelled();
    if (summary.status != JobStatus::kFailed || cancelled || !policy->ShouldRetry(attempt, summary.retryable)) {
      if (summary.status == JobStatus::kFailed && summary.retryable && attempt > 1) {
        summary.message += fmt::format(" (gave up after {} attempts)", attempt);
      }
      if (listener) listener->OnJobFinish(summary);
      return summary;
    }
    auto pause = policy->BackoffBefore(attempt);
    spdlog::warn("job '{}' of pipeline '{}' failed (attempt {} of {}); retrying in {:.1f}s", job.name, pipeline.name,
                 attempt, policy->max_retries + 1, std::chrono::duration<double>(pause).count());
    bool slept = request.cancellation ? request.cancellation->SleepUnlessCancelled(pause)
                                      : (std::this_thread::sleep_for(pause), true);
    if (!slept) {
      summary.status = JobStatus::kCancelled;
      summary.message = "cancelled while waiting to retry: " + request.cancellation->reason();
      if (listener) listener->OnJobFinish(summary);
      return summary;
    }
  }
}

Status PipelineRunner::Validate(const config::PipelineConfig& pipeline) {
  SLUICE_ASSIGN_OR_RETURN(auto with_catalog_jobs, WithCatalogWindowJobs(workspace_.catalog(), pipeline));
  return ValidateJobs(workspace_, with_catalog_jobs);
}

Result<RunOutcome> PipelineRunner::Run(const RunRequest& request, ProgressListener* listener) {
  const auto* file_pipeline = FindPipeline(pipelines_, request.pipeline);
  if (file_pipeline == nullptr) {
    std::vector<std::string> names;
    for (const auto& p : pipelines_) names.push_back(p.name);
    std::string hint = NearestWord(request.pipeline, names);
    return Status::Invalid(
        "no pipeline named '{}' in {}/pipelines{}; known: {}", request.pipeline, workspace_.project().root.string(),
        hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint), names.empty() ? "(none)" : Join(names, ", "));
  }
  // Window jobs managed with `sluice jobs` take part like the file's own.
  SLUICE_ASSIGN_OR_RETURN(auto with_catalog_jobs, WithCatalogWindowJobs(workspace_.catalog(), *file_pipeline));
  const auto* pipeline = &with_catalog_jobs;
  if (request.only_job) SLUICE_TRY(RequireJob(*pipeline, *request.only_job));
  // Configuration mistakes are reported before anything starts, as usage errors (exit code 2).
  SLUICE_TRY(ValidateJobs(workspace_, *pipeline));
  SLUICE_ASSIGN_OR_RETURN(auto lock, PipelineLock::TryAcquire(workspace_.state_dir() / "locks", pipeline->name));

  RecoverInterruptedRuns(pipeline->name);

  RunOutcome outcome;
  auto& record = outcome.record;
  record.id = request.run_id ? *request.run_id : NewRunId(workspace_.clock());
  record.pipeline = pipeline->name;
  record.job = request.only_job.value_or("");
  record.env = workspace_.project().env;
  record.trigger = request.trigger;
  record.status = catalog::RunStatus::kRunning;
  record.started_at = workspace_.clock().Now();
  SLUICE_TRY(workspace_.catalog().InsertRun(record));

  std::error_code ec;
  std::filesystem::create_directories(workspace_.RunLogPath(record.id).parent_path(), ec);
  auto capture = LogCapture::ToFile(workspace_.RunLogPath(record.id).string());
  spdlog::info("run {} of pipeline '{}' started{}", record.id, pipeline->name,
               request.full_refresh ? " (full refresh)" : "");

  SLUICE_ASSIGN_OR_RETURN(int64_t max_parallel, MaxParallelJobs(workspace_.project().defaults));
  RunRequest effective = request;
  if (!effective.cancellation) effective.cancellation = std::make_shared<RunCancellation>();
  CancelRequestWatcher cancel_watcher(CancelRequestPath(workspace_.state_dir(), record.id), effective.cancellation);
  std::vector<const config::JobConfig*> selected;
  for (const auto& job : pipeline->jobs) {
    if (!request.only_job || job.name == *request.only_job) selected.push_back(&job);
  }
  auto finished = RunDag(
      selected, static_cast<size_t>(max_parallel), effective,
      [&](const config::JobConfig& job) { return RunJobWithRetries(*pipeline, job, effective, record.id, listener); },
      listener);

  bool any_failed = false, any_work = false, any_cancelled = false;
  for (const auto* job : selected) {
    JobSummary summary = std::move(finished[job->name]);
    any_failed |= summary.status == JobStatus::kFailed;
    any_cancelled |= summary.status == JobStatus::kCancelled;
    any_work |= summary.status == JobStatus::kSucceeded;
    record.rows_read += summary.rows_read;
    if (summary.status == JobStatus::kSucceeded) {  // what a failed or cancelled job wrote was never committed
      record.rows_written += summary.rows_written;
      record.rows_rejected += summary.rows_rejected;
      record.bytes_written += summary.bytes_written;
      record.files_written += summary.files_written;
    }
    if ((summary.status == JobStatus::kFailed || summary.status == JobStatus::kCancelled) && record.error.empty()) {
      record.error = summary.message;
    }
    outcome.jobs.push_back(std::move(summary));
  }

  std::filesystem::remove_all(workspace_.state_dir() / "staging" / record.id.value, ec);

  record.status = any_cancelled ? catalog::RunStatus::kCancelled
                  : any_failed  ? catalog::RunStatus::kFailed
                  : any_work    ? catalog::RunStatus::kSucceeded
                                : catalog::RunStatus::kNoChanges;
  record.finished_at = workspace_.clock().Now();
  nlohmann::json details = {{"jobs", nlohmann::json::array()}, {"full_refresh", request.full_refresh}};
  if (!request.trigger_detail.empty()) details["trigger_detail"] = request.trigger_detail;
  for (const auto& s : outcome.jobs) details["jobs"].push_back(SummaryJson(s));
  record.details_json = details.dump();
  spdlog::info("run {} of pipeline '{}' {}: {} rows written, {} rejected", record.id, pipeline->name,
               catalog::RunStatusName(record.status), record.rows_written, record.rows_rejected);
  Status saved = workspace_.catalog().UpdateRun(record);
  if (!saved.ok()) spdlog::error("could not save run record {}: {}", record.id, saved.message());
  return outcome;
}

}  // namespace sluice::pipeline
