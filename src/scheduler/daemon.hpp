#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "catalog/types.hpp"
#include "common/status.hpp"
#include "config/pipeline.hpp"
#include "config/project.hpp"
#include "notify/notifier.hpp"
#include "pipeline/pipeline_lock.hpp"
#include "pipeline/runner.hpp"
#include "pipeline/workspace.hpp"
#include "scheduler/pipeline_triggers.hpp"

namespace sluice::scheduler {

struct DaemonOptions {
  /// Runs executing at once over all pipelines (`server.max_concurrent_runs`); one per pipeline always.
  int64_t max_concurrent_runs = 2;
  /// Done queue entries are kept this long: their dedup keys keep refusing the same trigger event.
  std::chrono::hours queue_retention{24 * 30};
  /// The longest the loop sleeps between looks at the queue and the triggers.
  std::chrono::milliseconds max_idle{500};
  /// Lists the folders and prefixes file_arrival triggers watch (see triggers::OpenFolder).
  triggers::OpenFolder open_folder;
};

/// How a queued run runs, as `sluice run`'s options.
struct QueuedRunOptions {
  bool full_refresh = false;
  std::string only_job;  // "" = every job
};

/// What `sluice serve` runs: polls the pipelines' triggers, queues their runs in the catalog (one run per
/// trigger event), and executes queued runs on worker threads within the concurrency limits. After a
/// run it sends the pipeline's notifications and queues the pipelines chained to it (on_success /
/// on_failure). One daemon per project (a lock file says so); on start it marks the runs a previous
/// daemon left in flight as interrupted and queues them again when their jobs allow retries.
class Daemon {
 public:
  Daemon(pipeline::Workspace& workspace, config::ProjectConfig project, std::vector<config::PipelineConfig> pipelines,
         DaemonOptions options);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  /// Takes the project's daemon lock, recovers runs left in flight, loads the triggers with their saved
  /// state and starts the scheduling thread. Errors: another daemon serves the project; a trigger is invalid.
  Status Start();
  /// Stops taking runs, cancels the running ones (each is queued again, to run at the next start) and
  /// waits for them to end.
  void Stop();

  /// Queues a run of `pipeline` now (the API, webhooks). An entry with the same non-empty dedup_key is
  /// not queued twice: its id comes back with created = false. NotFound for an unknown pipeline or
  /// job; PermissionDenied-like Invalid when the pipeline does not accept `trigger` (see AcceptsApiTrigger).
  Result<catalog::EnqueueResult> Enqueue(const std::string& pipeline, const std::string& trigger,
                                         const std::string& dedup_key, const std::string& detail,
                                         const QueuedRunOptions& options = {});
  /// Whether POST /api/v1/pipelines/NAME/trigger may start the pipeline: it has `webhook: true` or
  /// `on_demand: true`, or no triggers at all (then it is on demand only).
  bool AcceptsApiTrigger(const std::string& pipeline) const;
  /// Whether `pipeline` has tokens of its own (`webhook: { token: … }`), and whether `bearer` is one.
  bool HasWebhookToken(const std::string& pipeline) const;
  bool IsWebhookToken(const std::string& pipeline, const std::string& bearer) const;

  /// Ids of the runs executing now.
  std::vector<std::string> RunningRuns() const;

  /// Gives each run a progress listener made by `factory` (the web UI's live progress); call before Start().
  using ProgressListenerFactory = std::function<std::unique_ptr<pipeline::ProgressListener>(const RunId& run_id)>;
  void SetProgressListeners(ProgressListenerFactory factory) { progress_listeners_ = std::move(factory); }

 private:
  struct Worker {
    std::string pipeline;
    std::thread thread;
    std::shared_ptr<pipeline::RunCancellation> cancellation;
    /// A `continuous: true` run follows until this is set (Stop() sets it instead of cancelling).
    std::shared_ptr<std::atomic<bool>> stop_following;
    bool finished = false;
  };

  /// A `continuous: true` pipeline: whether its run is queued, and when it may start again.
  struct ContinuousState {
    bool queued = false;
    int64_t generation = 0;  // runs queued so far by this daemon (part of the dedup key)
    int64_t failures = 0;    // in a row: the restart backoff grows with them
    TimePoint not_before{};
  };

  struct PolledEntry {
    std::string pipeline;
    triggers::TriggerSpec spec;
    std::unique_ptr<triggers::PolledTrigger> trigger;
    TimePoint next_poll;
  };

  void Loop();
  Status LoadPolledTriggers();
  /// Polls the triggers that are due (or whose folder changed); returns when the next one is due.
  TimePoint PollTriggers(TimePoint now);
  /// Queues the poll's runs and saves the trigger's state with them (one transaction for the last run).
  Status StorePoll(const PolledEntry& entry, const triggers::TriggerPoll& poll, TimePoint now);
  void SendAlert(const triggers::TriggerAlert& alert);
  triggers::PolledTriggerContext TriggerContext(const std::string& pipeline) const;
  /// Queues `run` again under a new id (a restart, a stop, a busy pipeline), waiting `delay` first.
  void QueueAgain(catalog::QueuedRun run, std::string dedup_key, std::string detail, std::chrono::microseconds delay);
  void StartDueRuns(TimePoint now);
  void Execute(catalog::QueuedRun run, std::shared_ptr<pipeline::RunCancellation> cancellation,
               std::shared_ptr<std::atomic<bool>> stop_following);
  /// Queues a following run of every `continuous: true` pipeline that has none (after its backoff).
  void QueueContinuous(TimePoint now);
  /// Records how a continuous run ended: the next starts at once after a clean stop, later after failures.
  void ContinuousRunEnded(const std::string& pipeline, bool failed);
  /// Runs of the pipelines that `on_success:`/`on_failure:` the finished pipeline.
  void QueueChained(const pipeline::RunOutcome& outcome);
  void Notify(const pipeline::RunOutcome& outcome);
  /// Runs a previous daemon claimed but never finished: marked interrupted, queued again per retry policy.
  void RecoverInFlight();
  /// How often a run of `pipeline` that did not end (interrupted, stopped) is queued again.
  int64_t RunRetries(const std::string& pipeline) const;
  const config::PipelineConfig* FindPipeline(const std::string& name) const;
  void ReapFinishedWorkers();
  RunId NewQueueId() const;

  pipeline::Workspace& workspace_;
  config::ProjectConfig project_;
  std::vector<config::PipelineConfig> pipelines_;
  DaemonOptions options_;
  ProgressListenerFactory progress_listeners_;
  notify::NotifierRegistry notifiers_;
  std::map<std::string, PipelineTriggers> triggers_;
  std::vector<PolledEntry> polled_;                 // touched by the loop thread only (after Start)
  triggers::PolledTriggerContext trigger_context_;  // project root and S3 settings, shared by all triggers

  std::unique_ptr<pipeline::PipelineLock> daemon_lock_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::map<RunId, Worker> workers_;  // queue id → worker (running until finished); guarded by mutex_
  std::map<std::string, ContinuousState> continuous_;  // guarded by mutex_
  std::string started_stamp_;                          // this daemon's start, in the dedup keys of its continuous runs
  std::thread loop_;
};

}  // namespace sluice::scheduler
