#include "pipeline/run_control.hpp"

#include <algorithm>
#include <cmath>

#include "engine/engine.hpp"

namespace sluice::pipeline {
namespace {

Result<std::optional<std::chrono::microseconds>> DurationKey(const config::Value& defaults, std::string_view key) {
  const config::Value* v = defaults.IsMap() ? defaults.Find(key) : nullptr;
  if (v == nullptr || v->IsNull()) return std::optional<std::chrono::microseconds>();
  auto d = v->AsDuration();
  if (!d.ok()) return d.status().WithContext("{}: defaults.{} in sluice.yaml", v->location().ToString(), key);
  if (d->count() < 0) return Status::Invalid("{}: defaults.{} must not be negative", v->location().ToString(), key);
  return std::optional<std::chrono::microseconds>(*d);
}

Result<std::optional<int64_t>> IntKey(const config::Value& defaults, std::string_view key, int64_t minimum) {
  const config::Value* v = defaults.IsMap() ? defaults.Find(key) : nullptr;
  if (v == nullptr || v->IsNull()) return std::optional<int64_t>();
  auto n = v->AsInt();
  if (!n.ok()) return n.status().WithContext("{}: defaults.{} in sluice.yaml", v->location().ToString(), key);
  if (*n < minimum) {
    return Status::Invalid("{}: defaults.{} must be {} or more, got {}", v->location().ToString(), key, minimum, *n);
  }
  return std::optional<int64_t>(*n);
}

}  // namespace

Result<RetryPolicy> RetryPolicy::ForJob(const config::JobConfig& job, const config::Value& defaults) {
  RetryPolicy policy;
  if (job.retries) {
    policy.max_retries = *job.retries;
  } else {
    SLUICE_ASSIGN_OR_RETURN(auto n, IntKey(defaults, "retries", 0));
    if (n) policy.max_retries = *n;
  }
  SLUICE_ASSIGN_OR_RETURN(auto initial, DurationKey(defaults, "retry_backoff"));
  if (initial) policy.initial_backoff = *initial;
  SLUICE_ASSIGN_OR_RETURN(auto cap, DurationKey(defaults, "retry_backoff_max"));
  if (cap) policy.max_backoff = *cap;
  policy.max_backoff = std::max(policy.max_backoff, policy.initial_backoff);
  return policy;
}

std::chrono::microseconds RetryPolicy::BackoffBefore(int64_t retry) const {
  double factor = std::pow(multiplier, static_cast<double>(std::max<int64_t>(retry, 1) - 1));
  double micros = static_cast<double>(initial_backoff.count()) * factor;
  if (!std::isfinite(micros) || micros > static_cast<double>(max_backoff.count())) return max_backoff;
  return std::chrono::microseconds(static_cast<int64_t>(micros));
}

Result<std::chrono::microseconds> JobTimeout(const config::JobConfig& job, const config::Value& defaults) {
  if (job.timeout) return *job.timeout;
  SLUICE_ASSIGN_OR_RETURN(auto d, DurationKey(defaults, "timeout"));
  return d.value_or(std::chrono::microseconds(0));
}

Result<int64_t> MaxParallelJobs(const config::Value& defaults) {
  SLUICE_ASSIGN_OR_RETURN(auto n, IntKey(defaults, "max_parallel_jobs", 1));
  return n.value_or(2);
}

void RunCancellation::Cancel(std::string reason) {
  {
    std::lock_guard lock(mutex_);
    if (cancelled_) return;
    cancelled_ = true;
    reason_ = std::move(reason);
  }
  cv_.notify_all();
}

bool RunCancellation::cancelled() const {
  std::lock_guard lock(mutex_);
  return cancelled_;
}

std::string RunCancellation::reason() const {
  std::lock_guard lock(mutex_);
  return reason_;
}

bool RunCancellation::SleepUnlessCancelled(std::chrono::microseconds d) const {
  std::unique_lock lock(mutex_);
  return !cv_.wait_for(lock, d, [this] { return cancelled_; });
}

void JobInterrupt::Attach(engine::Connection* connection) {
  std::lock_guard lock(mutex_);
  connection_ = connection;
  // Triggered before the job reached the engine: stop its first statement at once.
  if (!reason_.ok() && connection_ != nullptr) connection_->Interrupt();
}

void JobInterrupt::Attach(std::function<void()> interrupter) {
  std::lock_guard lock(mutex_);
  interrupter_ = std::move(interrupter);
  if (!reason_.ok() && interrupter_) interrupter_();
}

void JobInterrupt::Detach() {
  std::lock_guard lock(mutex_);
  connection_ = nullptr;
  interrupter_ = nullptr;
}

void JobInterrupt::Trigger(Status reason) {
  std::lock_guard lock(mutex_);
  if (reason_.ok()) reason_ = std::move(reason);
  if (connection_ != nullptr) connection_->Interrupt();
  if (interrupter_) interrupter_();
}

void JobInterrupt::Follow(std::shared_ptr<const RunCancellation> cancellation) {
  std::lock_guard lock(mutex_);
  cancellation_ = std::move(cancellation);
}

Status JobInterrupt::reason() const {
  std::lock_guard lock(mutex_);
  if (reason_.ok() && cancellation_ && cancellation_->cancelled()) {
    return Status::Cancelled("cancelled: {}", cancellation_->reason());
  }
  return reason_;
}

Status Interrupted(const JobInterrupt* interrupt) { return interrupt != nullptr ? interrupt->reason() : Status::OK(); }

ScopedInterruptAttach::ScopedInterruptAttach(JobInterrupt* interrupt, engine::Connection& connection)
    : interrupt_(interrupt) {
  if (interrupt_ != nullptr) interrupt_->Attach(&connection);
}

ScopedInterruptAttach::~ScopedInterruptAttach() {
  if (interrupt_ != nullptr) interrupt_->Detach();
}

}  // namespace sluice::pipeline
