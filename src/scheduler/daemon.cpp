#include "scheduler/daemon.hpp"

#include <spdlog/spdlog.h>

#include <poll.h>

#include <algorithm>

#include "common/fault_point.hpp"
#include "common/hash.hpp"
#include "common/ids.hpp"
#include "common/strings.hpp"
#include "notify/dispatch.hpp"
#include "pipeline/run_control.hpp"
#include "pipeline/window_jobs.hpp"
#include "scheduler/run_notifications.hpp"
#include "scheduler/triggers/switch_config.hpp"
#include "scheduler/triggers/trigger.hpp"

namespace sluice::scheduler {
namespace {

/// A run that found its pipeline locked (a `sluice run` of it from the command line) waits this long.
constexpr auto kBusyPipelineDelay = std::chrono::seconds(10);
/// A trigger whose poll or state store failed is polled again after this pause.
constexpr auto kTriggerErrorDelay = std::chrono::seconds(30);

bool Succeeded(catalog::RunStatus status) {
  return status == catalog::RunStatus::kSucceeded || status == catalog::RunStatus::kNoChanges;
}

}  // namespace

Daemon::Daemon(pipeline::Workspace& workspace, config::ProjectConfig project,
               std::vector<config::PipelineConfig> pipelines, DaemonOptions options)
    : workspace_(workspace), project_(std::move(project)), pipelines_(std::move(pipelines)), options_(options) {
  notify::RegisterBuiltinNotifiers(notifiers_);
}

Daemon::~Daemon() { Stop(); }

Status Daemon::Start() {
  auto lock = pipeline::PipelineLock::TryAcquire(workspace_.state_dir() / "locks", "_sluice_serve");
  if (!lock.ok()) {
    return Status::Conflict("another `sluice serve` already serves project {} ({}); stop it first",
                            project_.root.string(), lock.status().message());
  }
  daemon_lock_ = std::move(lock).value();

  std::vector<std::string> names;
  for (const auto& p : pipelines_) names.push_back(p.name);
  for (const auto& p : pipelines_) {
    SLUICE_ASSIGN_OR_RETURN(auto triggers, ReadPipelineTriggers(p, names));
    triggers_[p.name] = std::move(triggers);
  }
  auto pruned = workspace_.catalog().PruneQueue(workspace_.clock().Now() - options_.queue_retention);
  if (!pruned.ok()) spdlog::warn("could not prune the run queue: {}", pruned.status().message());
  RecoverInFlight();
  SLUICE_TRY(LoadPolledTriggers());
  started_stamp_ = NewQueueId().value;
  for (const auto& p : pipelines_) {
    if (triggers::IsEnabled(triggers_[p.name].specs, "continuous")) continuous_[p.name] = ContinuousState{};
  }

  loop_ = std::thread([this] {
    // A thread's entry point lets nothing escape: an error here must not end `sluice serve`.
    while (true) {
      try {
        Loop();
        return;
      } catch (const std::exception& e) {
        spdlog::error("the scheduler hit an unexpected error and carries on: {}", e.what());
      } catch (...) {
        spdlog::error("the scheduler hit an unexpected error and carries on");
      }
      std::unique_lock lock(mutex_);
      if (stopping_) return;
      wake_.wait_for(lock, std::chrono::seconds(1));
    }
  });
  return Status::OK();
}

void Daemon::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !loop_.joinable()) return;
    stopping_ = true;
    for (auto& [id, worker] : workers_) {
      if (worker.finished) continue;
      if (worker.stop_following) {  // commits what it has read and ends; the next start follows again
        worker.stop_following->store(true);
        spdlog::info("run {} of '{}' was asked to stop following", id, worker.pipeline);
        continue;
      }
      worker.cancellation->Cancel("sluice serve is stopping; the run is queued again");
      spdlog::info("run {} of '{}' was asked to stop; it is queued again for the next start", id, worker.pipeline);
    }
  }
  wake_.notify_all();
  if (loop_.joinable()) loop_.join();
  // The loop has ended, so no new workers appear; wait for the running ones.
  std::map<RunId, Worker> workers;
  {
    std::lock_guard lock(mutex_);
    workers.swap(workers_);
  }
  for (auto& [id, worker] : workers) {
    if (worker.thread.joinable()) worker.thread.join();
  }
  daemon_lock_.reset();
}

const config::PipelineConfig* Daemon::FindPipeline(const std::string& name) const {
  for (const auto& p : pipelines_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

bool Daemon::AcceptsApiTrigger(const std::string& pipeline) const {
  auto it = triggers_.find(pipeline);
  return it != triggers_.end() && it->second.accepts_api;
}

bool Daemon::HasWebhookToken(const std::string& pipeline) const {
  auto it = triggers_.find(pipeline);
  return it != triggers_.end() && !it->second.webhook_tokens.empty();
}

bool Daemon::IsWebhookToken(const std::string& pipeline, const std::string& bearer) const {
  auto it = triggers_.find(pipeline);
  if (it == triggers_.end() || bearer.empty()) return false;
  const auto& tokens = it->second.webhook_tokens;
  return std::any_of(tokens.begin(), tokens.end(),
                     [&](const Secret& token) { return ConstantTimeEquals(token.Reveal(), bearer); });
}

RunId Daemon::NewQueueId() const { return NewRunId(workspace_.clock()); }

Result<catalog::EnqueueResult> Daemon::Enqueue(const std::string& pipeline, const std::string& trigger,
                                               const std::string& dedup_key, const std::string& detail,
                                               const QueuedRunOptions& options) {
  const config::PipelineConfig* config = FindPipeline(pipeline);
  if (config == nullptr) {
    std::vector<std::string> names;
    for (const auto& p : pipelines_) names.push_back(p.name);
    return Status::NotFound("no pipeline named '{}'{}; pipelines: {}", pipeline, DidYouMean(pipeline, names),
                            Join(names, ", "));
  }
  if (!options.only_job.empty()) {
    // As the runner will see it: jobs added with `sluice jobs add` count.
    SLUICE_ASSIGN_OR_RETURN(auto runs_as, pipeline::WithCatalogWindowJobs(workspace_.catalog(), *config));
    SLUICE_TRY(pipeline::RequireJob(runs_as, options.only_job));
  }
  catalog::QueuedRun run;
  run.full_refresh = options.full_refresh;
  run.only_job = options.only_job;
  run.id = NewQueueId();
  run.pipeline = pipeline;
  run.trigger = trigger;
  run.dedup_key = dedup_key;
  run.detail = detail;
  run.enqueued_at = run.not_before = workspace_.clock().Now();
  SLUICE_ASSIGN_OR_RETURN(auto result, workspace_.catalog().EnqueueRun(run, std::nullopt));
  if (result.created)
    spdlog::info("queued run {} of '{}' ({}{})", result.id, pipeline, trigger, detail.empty() ? "" : ": " + detail);
  wake_.notify_all();
  return result;
}

std::vector<std::string> Daemon::RunningRuns() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> ids;
  for (const auto& [id, worker] : workers_) {
    if (!worker.finished) ids.push_back(id.value);
  }
  return ids;
}

int64_t Daemon::RunRetries(const std::string& pipeline) const {
  const config::PipelineConfig* config = FindPipeline(pipeline);
  if (config == nullptr) return 0;
  int64_t retries = 0;
  for (const auto& job : config->jobs) {
    auto policy = pipeline::RetryPolicy::ForJob(job, project_.defaults);
    if (policy.ok()) retries = std::max(retries, policy->max_retries);
  }
  return retries;
}

void Daemon::RecoverInFlight() {
  auto pending = workspace_.catalog().PendingQueue();
  if (!pending.ok()) {
    spdlog::error("could not read the run queue: {}", pending.status().message());
    return;
  }
  pipeline::PipelineRunner runner(workspace_, pipelines_);
  for (const auto& run : *pending) {
    if (run.state != catalog::QueueState::kClaimed) continue;
    // Only this daemon (it holds the project's daemon lock) claims runs, so a claimed entry is from one that died.
    if (FindPipeline(run.pipeline) != nullptr) {
      Status recovered = runner.RecoverInterrupted(run.pipeline);
      if (!recovered.ok()) {
        spdlog::warn("run {} of '{}' is still claimed: {}", run.id, run.pipeline, recovered.message());
        continue;
      }
    }
    Status finished = workspace_.catalog().FinishQueuedRun(run.id);
    if (!finished.ok()) spdlog::warn("could not close queue entry {}: {}", run.id, finished.message());
    if (run.attempt > RunRetries(run.pipeline)) {
      spdlog::warn("run {} of '{}' was interrupted by a restart; its jobs allow no retries, so it is not run again",
                   run.id, run.pipeline);
      continue;
    }
    catalog::QueuedRun again = run;
    again.trigger = "retry";
    again.attempt = run.attempt + 1;
    QueueAgain(std::move(again), "retry:" + run.id.value,
               fmt::format("again after run {} was interrupted by a restart (attempt {})", run.id, run.attempt + 1),
               std::chrono::microseconds{0});
  }
}

void Daemon::QueueAgain(catalog::QueuedRun run, std::string dedup_key, std::string detail,
                        std::chrono::microseconds delay) {
  RunId previous = run.id;
  run.id = NewQueueId();
  run.dedup_key = std::move(dedup_key);
  run.detail = std::move(detail);
  run.enqueued_at = workspace_.clock().Now();
  run.not_before = run.enqueued_at + delay;
  run.state = catalog::QueueState::kQueued;
  auto queued = workspace_.catalog().EnqueueRun(run, std::nullopt);
  if (!queued.ok()) spdlog::error("could not queue run {} again: {}", previous, queued.status().message());
}

triggers::PolledTriggerContext Daemon::TriggerContext(const std::string& pipeline) const {
  triggers::PolledTriggerContext context = trigger_context_;
  context.pipeline = pipeline;
  return context;
}

Status Daemon::LoadPolledTriggers() {
  trigger_context_.project_root = project_.root;
  trigger_context_.open_folder = options_.open_folder;
  trigger_context_.table_version = [this](const std::string& table) -> Result<int64_t> {
    SLUICE_ASSIGN_OR_RETURN(auto name, catalog::TableName::Parse(table));
    SLUICE_ASSIGN_OR_RETURN(auto info, workspace_.catalog().GetTable(name));
    return info ? info->current_version : 0;
  };
  TimePoint now = workspace_.clock().Now();
  for (const auto& [pipeline, pipeline_triggers] : triggers_) {
    for (const auto& spec : pipeline_triggers.specs) {
      if (!triggers::IsPolled(triggers::BuiltinTriggers(), spec)) continue;
      SLUICE_ASSIGN_OR_RETURN(auto saved, workspace_.catalog().GetTriggerState(pipeline, spec.key));
      SLUICE_ASSIGN_OR_RETURN(auto trigger, triggers::MakePolledTrigger(spec, TriggerContext(pipeline), saved));
      polled_.push_back(PolledEntry{pipeline, spec, std::move(trigger), now});
      spdlog::info("pipeline '{}': watching trigger {} ({})", pipeline, spec.key, spec.config->Describe());
    }
  }
  return Status::OK();
}

Status Daemon::StorePoll(const PolledEntry& entry, const triggers::TriggerPoll& poll, TimePoint now) {
  std::optional<catalog::TriggerState> state;
  if (poll.state_changed) state = catalog::TriggerState{entry.pipeline, entry.spec.key, poll.state};
  for (size_t i = 0; i < poll.events.size(); ++i) {
    const auto& event = poll.events[i];
    catalog::QueuedRun run;
    run.id = NewQueueId();
    run.pipeline = event.pipeline;
    run.trigger = event.kind;
    run.dedup_key = event.dedup_key;
    run.detail = event.detail;
    run.enqueued_at = run.not_before = now;
    // The state goes with the last run: if the daemon dies before it, the trigger fires the same
    // events again after the restart, and their dedup keys keep them from running twice.
    bool last = i + 1 == poll.events.size();
    SLUICE_ASSIGN_OR_RETURN(auto queued, workspace_.catalog().EnqueueRun(run, last ? state : std::nullopt));
    if (queued.created) {
      spdlog::info("queued run {} of '{}' ({}: {})", queued.id, run.pipeline, run.trigger, run.detail);
    }
  }
  if (poll.events.empty() && state) SLUICE_TRY(workspace_.catalog().SaveTriggerState(*state));
  return Status::OK();
}

void Daemon::SendAlert(const triggers::TriggerAlert& alert) {
  spdlog::warn("pipeline '{}': {}", alert.pipeline, alert.detail);
  const config::PipelineConfig* pipeline = FindPipeline(alert.pipeline);
  if (pipeline == nullptr) return;
  notify::RunNotice notice;
  notice.project = project_.project;
  notice.pipeline = alert.pipeline;
  notice.run_id = "(no run)";
  notice.status = alert.kind;
  notice.trigger = alert.kind;
  notice.error = alert.detail;
  auto names = notify::Recipients(pipeline->notify, {notify::RunEvent::kFailure});
  Status sent = notify::SendNotice(notifiers_, project_.notifications, names, notice, project_.unresolved);
  if (!sent.ok()) spdlog::warn("notifications of '{}': {}", alert.pipeline, workspace_.Redact(sent.message()));
}

TimePoint Daemon::PollTriggers(TimePoint now) {
  TimePoint next = now + options_.max_idle;
  for (auto& entry : polled_) {
    // inotify (local folders) only hints that polling early may find something; the listing decides.
    bool hinted = false;
    if (int fd = entry.trigger->WakeFd(); fd >= 0) {
      pollfd ready{fd, POLLIN, 0};
      hinted = ::poll(&ready, 1, 0) > 0;
    }
    if (hinted || entry.next_poll <= now) {
      auto poll = entry.trigger->Poll(now);
      Status stored = poll.ok() ? StorePoll(entry, *poll, now) : poll.status();
      if (!stored.ok()) {
        spdlog::error("pipeline '{}': trigger {}: {}", entry.pipeline, entry.spec.key,
                      workspace_.Redact(stored.message()));
        // Start again from the state last stored, so nothing it reported is lost or fired twice.
        auto saved = workspace_.catalog().GetTriggerState(entry.pipeline, entry.spec.key);
        if (saved.ok()) {
          if (auto rebuilt = triggers::MakePolledTrigger(entry.spec, TriggerContext(entry.pipeline), *saved);
              rebuilt.ok()) {
            entry.trigger = std::move(rebuilt).value();
          }
        }
        entry.next_poll = now + kTriggerErrorDelay;
      } else {
        for (const auto& alert : poll->alerts) SendAlert(alert);
        entry.next_poll = entry.trigger->NextWake(now).value_or(now + kTriggerErrorDelay);
        if (!poll->events.empty()) wake_.notify_all();
      }
    }
    next = std::min(next, entry.next_poll);
  }
  return next;
}

void Daemon::Loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    TimePoint now = workspace_.clock().Now();
    TimePoint next_poll = PollTriggers(now);
    QueueContinuous(now);
    StartDueRuns(now);
    ReapFinishedWorkers();
    (void)fault::Hit("daemon_loop");  // a test's witness that a whole pass ran at the current time
    lock.lock();
    if (stopping_) break;
    auto idle = std::min<std::chrono::microseconds>(
        options_.max_idle,
        std::max<std::chrono::microseconds>(std::chrono::duration_cast<std::chrono::microseconds>(next_poll - now),
                                            std::chrono::milliseconds(10)));
    wake_.wait_for(lock, idle);
  }
}

void Daemon::StartDueRuns(TimePoint now) {
  while (true) {
    std::vector<std::string> busy;
    {
      std::lock_guard lock(mutex_);
      for (const auto& [id, worker] : workers_) {
        if (!worker.finished) busy.push_back(worker.pipeline);
      }
      if (stopping_ || static_cast<int64_t>(busy.size()) >= options_.max_concurrent_runs) return;
    }
    auto claimed = workspace_.catalog().ClaimQueuedRun(now, busy);
    if (!claimed.ok()) {
      spdlog::error("could not take a run from the queue: {}", claimed.status().message());
      return;
    }
    if (!*claimed) return;
    catalog::QueuedRun run = std::move(**claimed);
    auto cancellation = std::make_shared<pipeline::RunCancellation>();
    std::shared_ptr<std::atomic<bool>> stop_following;
    if (run.trigger == "continuous") stop_following = std::make_shared<std::atomic<bool>>(false);
    std::lock_guard lock(mutex_);
    Worker& worker = workers_[run.id];
    worker.pipeline = run.pipeline;
    worker.cancellation = cancellation;
    worker.stop_following = stop_following;
    worker.thread = std::thread([this, run, cancellation, stop_following]() mutable {
      RunId id = run.id;
      try {
        Execute(std::move(run), cancellation, stop_following);
      } catch (const std::exception& e) {
        spdlog::error("run {} stopped on an unexpected error: {}", id, workspace_.Redact(e.what()));
      } catch (...) {
        spdlog::error("run {} stopped on an unexpected error", id);
      }
      std::lock_guard lock(mutex_);
      if (auto it = workers_.find(id); it != workers_.end()) it->second.finished = true;
      wake_.notify_all();
    });
  }
}

void Daemon::ReapFinishedWorkers() {
  std::vector<std::thread> done;
  {
    std::lock_guard lock(mutex_);
    for (auto it = workers_.begin(); it != workers_.end();) {
      if (it->second.finished) {
        done.push_back(std::move(it->second.thread));
        it = workers_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& thread : done) thread.join();
}

void Daemon::QueueContinuous(TimePoint now) {
  std::vector<std::pair<std::string, int64_t>> due;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    for (auto& [name, state] : continuous_) {
      bool running = std::any_of(workers_.begin(), workers_.end(), [&name = name](const auto& w) {
        return !w.second.finished && w.second.pipeline == name;
      });
      if (state.queued || running || now < state.not_before) continue;
      state.queued = true;
      due.emplace_back(name, state.generation++);
    }
  }
  for (const auto& [name, generation] : due) {
    auto queued = Enqueue(name, "continuous", fmt::format("continuous:{}:{}", started_stamp_, generation),
                          "follows its change log (continuous: true)");
    if (!queued.ok()) {
      spdlog::error("could not queue the continuous run of '{}': {}", name, queued.status().message());
      ContinuousRunEnded(name, /*failed=*/true);
    }
  }
}

void Daemon::ContinuousRunEnded(const std::string& pipeline, bool failed) {
  std::lock_guard lock(mutex_);
  auto it = continuous_.find(pipeline);
  if (it == continuous_.end()) return;
  auto& state = it->second;
  state.queued = false;
  state.failures = failed ? state.failures + 1 : 0;
  // 5 s, 10 s, 20 s, … up to 5 minutes between restarts of a failing follower.
  auto backoff = std::chrono::seconds(5) * (1 << std::min<int64_t>(std::max<int64_t>(state.failures - 1, 0), 6));
  state.not_before =
      workspace_.clock().Now() +
      (failed ? std::min<std::chrono::microseconds>(backoff, std::chrono::minutes(5)) : std::chrono::microseconds(0));
  wake_.notify_all();
}

void Daemon::Execute(catalog::QueuedRun run, std::shared_ptr<pipeline::RunCancellation> cancellation,
                     std::shared_ptr<std::atomic<bool>> stop_following) {
  pipeline::PipelineRunner runner(workspace_, pipelines_);
  pipeline::RunRequest request;
  request.pipeline = run.pipeline;
  request.trigger = run.trigger;
  request.trigger_detail = run.detail;
  request.run_id = run.id;
  request.full_refresh = run.full_refresh;
  if (!run.only_job.empty()) request.only_job = run.only_job;
  request.cancellation = cancellation;
  if (stop_following) {
    request.follow = true;
    request.stop_following = stop_following;
  }
  auto listener = progress_listeners_ ? progress_listeners_(run.id) : nullptr;
  auto outcome = [&]() -> Result<pipeline::RunOutcome> {
    try {
      return runner.Run(request, listener.get());
    } catch (const std::exception& e) {
      return Status::Internal("the run stopped on an unexpected error: {}", e.what());
    } catch (...) {
      return Status::Internal("the run stopped on an unexpected error");
    }
  }();

  bool requeue = false;
  std::chrono::microseconds delay{0};
  std::string requeue_reason;
  if (!outcome.ok() && outcome.status().code() == StatusCode::kConflict) {
    // The pipeline is running elsewhere (a `sluice run` from the command line): try again shortly.
    requeue = true;
    delay = kBusyPipelineDelay;
    requeue_reason = outcome.status().message();
  } else if (!outcome.ok()) {
    // It could not start at all (e.g. its config became invalid), or stopped on an unexpected error:
    // record that, so the API and `sluice runs` show it.
    auto started = workspace_.catalog().GetRun(run.id.value);
    bool exists = started.ok() && *started && (*started)->id == run.id;
    catalog::RunRecord record;
    if (exists) {
      record = **started;
    } else {
      record.id = run.id;
      record.pipeline = run.pipeline;
      record.env = project_.env;
      record.trigger = run.trigger;
      record.started_at = workspace_.clock().Now();
    }
    record.status = catalog::RunStatus::kFailed;
    record.finished_at = workspace_.clock().Now();
    record.error = workspace_.Redact(outcome.status().message());
    Status saved = exists ? workspace_.catalog().UpdateRun(record) : workspace_.catalog().InsertRun(record);
    if (!saved.ok()) spdlog::error("could not record run {} that failed to start: {}", run.id, saved.message());
    spdlog::error("run {} of '{}' could not start: {}", run.id, run.pipeline, record.error);
  } else {
    bool stopped = cancellation->cancelled() && outcome->record.status == catalog::RunStatus::kCancelled;
    {
      std::lock_guard lock(mutex_);
      stopped &= stopping_;
    }
    if (stopped) {
      requeue = true;
      requeue_reason = "sluice serve stopped while it ran";
    } else {
      Notify(*outcome);
      QueueChained(*outcome);
    }
  }

  Status finished = workspace_.catalog().FinishQueuedRun(run.id);
  if (!finished.ok()) spdlog::error("could not close queue entry {}: {}", run.id, finished.message());
  if (stop_following) {
    bool failed = !outcome.ok() || outcome->record.status == catalog::RunStatus::kFailed;
    ContinuousRunEnded(run.pipeline, failed);
    return;  // the loop queues the next following run itself
  }
  if (requeue)
    QueueAgain(run, "requeue:" + run.id.value, fmt::format("again after run {}: {}", run.id, requeue_reason), delay);
}

void Daemon::Notify(const pipeline::RunOutcome& outcome) {
  const config::PipelineConfig* pipeline = FindPipeline(outcome.record.pipeline);
  if (pipeline == nullptr) return;
  Status sent = NotifyRunOutcome(notifiers_, project_, *pipeline, outcome);
  if (!sent.ok()) spdlog::warn("notifications of run {}: {}", outcome.record.id, workspace_.Redact(sent.message()));
}

void Daemon::QueueChained(const pipeline::RunOutcome& outcome) {
  const auto& record = outcome.record;
  bool success = Succeeded(record.status);
  bool failure = record.status == catalog::RunStatus::kFailed;
  if (!success && !failure) return;
  for (const auto& [name, triggers] : triggers_) {
    const auto& upstream = success ? triggers.after_success : triggers.after_failure;
    if (std::find(upstream.begin(), upstream.end(), record.pipeline) == upstream.end()) continue;
    const char* kind = success ? "on_success" : "on_failure";
    auto queued = Enqueue(
        name, kind, fmt::format("{}:{}", kind, record.id.value),
        fmt::format("run {} of '{}' {}", record.id.value, record.pipeline, catalog::RunStatusName(record.status)));
    if (!queued.ok())
      spdlog::error("could not queue '{}' after run {}: {}", name, record.id, queued.status().message());
  }
}

}  // namespace sluice::scheduler
