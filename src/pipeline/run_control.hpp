#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "common/status.hpp"
#include "config/pipeline.hpp"
#include "config/value.hpp"

namespace sluice::engine {
class Connection;
}

namespace sluice::pipeline {

/// When and how often a failed job is tried again. The one place that decides retries: only
/// retryable failures (lost races, unreachable servers, timeouts) are retried, with an
/// exponentially growing pause that never exceeds `max_backoff`.
struct RetryPolicy {
  int64_t max_retries = 0;
  std::chrono::microseconds initial_backoff = std::chrono::seconds(5);
  std::chrono::microseconds max_backoff = std::chrono::minutes(5);
  double multiplier = 2.0;

  /// `retries` of the job, else `defaults.retries` of the project; `defaults.retry_backoff` and
  /// `defaults.retry_backoff_max` set the pauses. Errors name the config key.
  static Result<RetryPolicy> ForJob(const config::JobConfig& job, const config::Value& defaults);

  /// The pause before retry number `retry` (1 = the first retry).
  std::chrono::microseconds BackoffBefore(int64_t retry) const;
  /// Whether a job that failed `failures` times so far, the last time with `retryable`, runs again.
  bool ShouldRetry(int64_t failures, bool retryable) const { return retryable && failures <= max_retries; }
};

/// The per-job time limit: `timeout` of the job, else `defaults.timeout`; zero means none.
Result<std::chrono::microseconds> JobTimeout(const config::JobConfig& job, const config::Value& defaults);

/// How many independent jobs of one run may run at once: `defaults.max_parallel_jobs` (default 2).
Result<int64_t> MaxParallelJobs(const config::Value& defaults);

/// Cancellation of a whole run. Thread-safe; shared by the runner, its job threads and whoever
/// may cancel (the CLI's signal handler, the scheduler, the API).
class RunCancellation {
 public:
  void Cancel(std::string reason);
  bool cancelled() const;
  std::string reason() const;
  /// Sleeps up to `d`; returns early (false) when the run is cancelled meanwhile.
  bool SleepUnlessCancelled(std::chrono::microseconds d) const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  bool cancelled_ = false;
  std::string reason_;
};

/// Lets the runner stop one running job: the job attaches its engine connection, and a timeout
/// or a cancellation interrupts the statement running on it. The job then fails with `reason()`.
class JobInterrupt {
 public:
  /// Makes reason() report the run's cancellation as soon as it is cancelled, so the job's checks
  /// (before its commit) see it without waiting for a watchdog to Trigger().
  void Follow(std::shared_ptr<const RunCancellation> cancellation);
  void Attach(engine::Connection* connection);
  /// For work outside the engine (a statement on a database server): `interrupter` is called
  /// where an attached connection would be interrupted. Thread-safe callers only.
  void Attach(std::function<void()> interrupter);
  void Detach();
  /// Records why and interrupts the attached connection (if any); the first reason wins.
  void Trigger(Status reason);
  /// OK unless triggered; then the reason (a timeout is retryable, a cancellation is not).
  Status reason() const;

 private:
  mutable std::mutex mutex_;
  engine::Connection* connection_ = nullptr;
  std::function<void()> interrupter_;
  Status reason_;
  std::shared_ptr<const RunCancellation> cancellation_;
};

/// Why `interrupt` stopped its job (a timeout, a cancellation); OK while it has not, and without
/// one. Jobs check it between steps and just before their commit.
Status Interrupted(const JobInterrupt* interrupt);

/// Attaches a connection to a JobInterrupt for its lifetime (no-op without one).
class ScopedInterruptAttach {
 public:
  ScopedInterruptAttach(JobInterrupt* interrupt, engine::Connection& connection);
  ~ScopedInterruptAttach();
  ScopedInterruptAttach(const ScopedInterruptAttach&) = delete;
  ScopedInterruptAttach& operator=(const ScopedInterruptAttach&) = delete;

 private:
  JobInterrupt* interrupt_;
};

}  // namespace sluice::pipeline
