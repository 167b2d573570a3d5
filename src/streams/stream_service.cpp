#include "streams/stream_service.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/fault_point.hpp"
#include "streams/flush_run.hpp"
#include "streams/flusher.hpp"

namespace sluice::streams {

namespace {

/// How often the flusher looks at the clock for max_age; appends past max_bytes wake it at once.
constexpr auto kFlushPoll = std::chrono::milliseconds(200);
/// A failed flush (lake or catalog unreachable) is tried again after this; the records wait in the spool.
constexpr auto kFlushRetry = std::chrono::seconds(5);

}  // namespace

void StreamCounters::ObserveLatency(std::chrono::microseconds latency) {
  double seconds = static_cast<double>(latency.count()) / 1e6;
  size_t bucket = 0;
  while (bucket < kLatencyBuckets.size() && seconds > kLatencyBuckets[bucket]) ++bucket;
  latency_counts[bucket].fetch_add(1, std::memory_order_relaxed);
  latency_micros_sum.fetch_add(static_cast<uint64_t>(latency.count()), std::memory_order_relaxed);
}

StreamService::StreamService(pipeline::Workspace& workspace, config::StreamConfig config, std::unique_ptr<Spool> spool,
                             uint64_t committed)
    : workspace_(workspace), config_(std::move(config)), spool_(std::move(spool)), committed_segment_(committed) {}

StreamService::~StreamService() { Stop(); }

Result<std::unique_ptr<StreamService>> StreamService::Open(pipeline::Workspace& workspace,
                                                           config::StreamConfig config) {
  SLUICE_ASSIGN_OR_RETURN(uint64_t committed, CommittedSegment(workspace.catalog(), config.name));
  SpoolOptions options;
  options.dir = workspace.state_dir() / "streams" / config.name;
  options.max_spool_bytes = config.max_spool_bytes;
  auto spool = Spool::Open(options, committed, workspace.clock().Now());
  if (!spool.ok()) return spool.status().WithContext("stream '{}'", config.name);
  MarkInterruptedFlushes(workspace, config.name);
  return std::unique_ptr<StreamService>(new StreamService(workspace, std::move(config), std::move(*spool), committed));
}

Result<AcceptOutcome> StreamService::Accept(const std::vector<std::string>& records, const std::string& key,
                                            const std::string& answer) {
  auto started = std::chrono::steady_clock::now();
  uint64_t bytes = 0;
  for (const auto& r : records) bytes += r.size();
  counters_.records_received += records.size();
  counters_.bytes_received += bytes;
  std::vector<std::string_view> views(records.begin(), records.end());
  SLUICE_ASSIGN_OR_RETURN(auto appended, spool_->Append(views, key, answer, workspace_.clock().Now()));
  AcceptOutcome outcome;
  outcome.ticket = appended.ticket;
  if (appended.kind == AppendOutcome::Kind::kFull) {
    ++counters_.throttled;
    outcome.kind = AcceptOutcome::Kind::kSpoolFull;
    return outcome;
  }
  SLUICE_TRY(spool_->WaitDurable(appended.ticket.position));
  if (appended.kind == AppendOutcome::Kind::kRemembered) {
    outcome.kind = AcceptOutcome::Kind::kRemembered;
    outcome.answer = std::move(appended.answer);
    return outcome;
  }
  SLUICE_FAULT_POINT("stream_spooled_before_ack");
  counters_.records_acknowledged += records.size();
  counters_.bytes_acknowledged += bytes;
  counters_.ObserveLatency(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started));
  if (spool_->Active().record_bytes >= config_.max_bytes) wake_.notify_one();
  return outcome;
}

Status StreamService::WaitInLake(uint64_t segment, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  flush_through_ = std::max(flush_through_, segment);
  wake_.notify_one();
  committed_.wait_for(lock, timeout, [&] { return committed_segment_ >= segment || stopping_; });
  if (committed_segment_ >= segment) return Status::OK();
  return Status::Timeout("the records are durable in the spool of stream '{}' but not yet in the lake after {} s",
                         config_.name, timeout.count() / 1000);
}

void StreamService::Start() {
  if (flusher_.joinable()) return;
  flusher_ = std::thread([this] {
    try {
      FlushLoop();
    } catch (const std::exception& e) {
      spdlog::error(
          "stream '{}': the flusher stopped on an unexpected error: {}; restart sluice serve (acknowledged "
          "records stay in the spool)",
          config_.name, e.what());
    }
  });
}

void StreamService::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  committed_.notify_all();
  if (flusher_.joinable()) flusher_.join();
}

void StreamService::FlushLoop() {
  auto wait = kFlushPoll;
  for (;;) {
    uint64_t asked_through = 0;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, wait);
      if (stopping_) return;
      asked_through = flush_through_;
    }
    wait = kFlushPoll;
    ActiveSegmentState active = spool_->Active();
    TimePoint now = workspace_.clock().Now();
    std::string trigger;
    if (active.records > 0) {
      if (asked_through >= active.segment)
        trigger = "ack=lake";
      else if (active.record_bytes >= config_.max_bytes)
        trigger = "max_bytes";
      else if (active.oldest && now - *active.oldest >= config_.max_age)
        trigger = "max_age";
    }
    std::vector<uint64_t> sealed;
    if (!trigger.empty()) {
      auto sealing = spool_->Seal(now);
      if (!sealing.ok()) {
        spdlog::error("stream '{}': {}", config_.name, sealing.status().message());
        wait = kFlushRetry;
        continue;
      }
      sealed = std::move(*sealing);
    } else {
      sealed = spool_->Sealed();
    }
    if (!sealed.empty() && !FlushSealed(sealed, trigger.empty() ? "restart" : trigger)) wait = kFlushRetry;
  }
}

bool StreamService::FlushSealed(const std::vector<uint64_t>& sealed, const std::string& trigger) {
  for (uint64_t segment : sealed) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return true;
    }
    // A commit that succeeded although its answer was lost must not land the segment again.
    auto committed = CommittedSegment(workspace_.catalog(), config_.name);
    if (committed.ok() && *committed >= segment) {
      MarkFlushCommitted(workspace_, config_.name, segment);
      (void)spool_->Drop(*committed);
      MarkCommitted(*committed);
      continue;
    }
    FlushRun run(workspace_, config_, segment, segment == sealed.back() ? trigger : "restart");
    auto flushed = FlushSegment(workspace_, config_, spool_->SegmentPath(segment), segment);
    if (!flushed.ok()) {
      ++counters_.flush_failures;
      run.Failed(flushed.status());
      spdlog::error(
          "stream '{}': flushing spool segment {} failed (the records stay in the spool and the flush is "
          "tried again): {}",
          config_.name, segment, workspace_.Redact(flushed.status().message()));
      return false;
    }
    counters_.records_flushed += static_cast<uint64_t>(flushed->rows_written);
    counters_.rows_rejected += static_cast<uint64_t>(flushed->rows_rejected);
    counters_.bytes_flushed += static_cast<uint64_t>(flushed->bytes_written);
    ++counters_.flushes;
    run.Succeeded(*flushed);
    spdlog::info("stream '{}': spool segment {} landed: {} rows in {}.{} (version {}), {} set aside", config_.name,
                 segment, flushed->rows_written, config_.zone, config_.table, flushed->table_version,
                 flushed->rows_rejected);
    Status point = fault::Hit("stream_after_commit_before_spool_delete");
    if (!point.ok()) return false;
    (void)spool_->Drop(segment);
    MarkCommitted(segment);
  }
  return true;
}

void StreamService::MarkCommitted(uint64_t segment) {
  {
    std::lock_guard lock(mutex_);
    committed_segment_ = std::max(committed_segment_, segment);
  }
  committed_.notify_all();
}

Result<std::unique_ptr<StreamHub>> StreamHub::Open(pipeline::Workspace& workspace,
                                                   const std::vector<config::StreamConfig>& streams) {
  auto hub = std::make_unique<StreamHub>();
  for (const auto& config : streams) {
    SLUICE_ASSIGN_OR_RETURN(auto service, StreamService::Open(workspace, config));
    hub->streams_.push_back(std::move(service));
  }
  return hub;
}

StreamService* StreamHub::Find(const std::string& name) const {
  for (const auto& s : streams_) {
    if (s->config().name == name) return s.get();
  }
  return nullptr;
}

void StreamHub::Start() {
  for (auto& s : streams_) s->Start();
}

void StreamHub::Stop() {
  for (auto& s : streams_) s->Stop();
}

std::string StreamHub::MetricsText() const {
  if (streams_.empty()) return "";
  struct Counter {
    const char* name;
    const char* help;
    std::atomic<uint64_t> StreamCounters::*field;
  };
  static const Counter kCounters[] = {
      {"sluice_stream_records_received_total", "Records received (checked, before the spool).",
       &StreamCounters::records_received},
      {"sluice_stream_bytes_received_total", "Bytes of records received.", &StreamCounters::bytes_received},
      {"sluice_stream_records_acknowledged_total", "Records acknowledged: fsync'd to the spool.",
       &StreamCounters::records_acknowledged},
      {"sluice_stream_bytes_acknowledged_total", "Bytes of records acknowledged.", &StreamCounters::bytes_acknowledged},
      {"sluice_stream_records_failed_total", "Records refused one by one (not an object, too large, too deep).",
       &StreamCounters::records_failed},
      {"sluice_stream_records_flushed_total", "Rows committed to the stream's lake table.",
       &StreamCounters::records_flushed},
      {"sluice_stream_rows_rejected_total", "Records set aside in <table>__rejects by flushes.",
       &StreamCounters::rows_rejected},
      {"sluice_stream_bytes_flushed_total", "Bytes of Parquet committed by flushes.", &StreamCounters::bytes_flushed},
      {"sluice_stream_flushes_total", "Flushes committed.", &StreamCounters::flushes},
      {"sluice_stream_flush_failures_total", "Flushes that failed (retried).", &StreamCounters::flush_failures},
      {"sluice_stream_throttled_total", "Requests answered 429 because the spool was over max_spool_bytes.",
       &StreamCounters::throttled},
  };
  std::string text;
  for (const auto& counter : kCounters) {
    text += fmt::format("# HELP {} {}\n# TYPE {} counter\n", counter.name, counter.help, counter.name);
    for (const auto& s : streams_) {
      text += fmt::format("{}{{stream=\"{}\"}} {}\n", counter.name, s->config().name,
                          (s->counters().*counter.field).load());
    }
  }
  text +=
      "# HELP sluice_stream_spool_bytes Bytes in the spool not yet in the lake.\n# TYPE sluice_stream_spool_bytes "
      "gauge\n";
  for (const auto& s : streams_)
    text += fmt::format("sluice_stream_spool_bytes{{stream=\"{}\"}} {}\n", s->config().name, s->spool_bytes());
  text +=
      "# HELP sluice_stream_ack_latency_seconds Time from receiving a request's records to their fsync.\n"
      "# TYPE sluice_stream_ack_latency_seconds histogram\n";
  for (const auto& s : streams_) {
    const auto& c = s->counters();
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= StreamCounters::kLatencyBuckets.size(); ++i) {
      cumulative += c.latency_counts[i].load();
      std::string le =
          i < StreamCounters::kLatencyBuckets.size() ? fmt::format("{}", StreamCounters::kLatencyBuckets[i]) : "+Inf";
      text += fmt::format("sluice_stream_ack_latency_seconds_bucket{{stream=\"{}\",le=\"{}\"}} {}\n", s->config().name,
                          le, cumulative);
    }
    text += fmt::format("sluice_stream_ack_latency_seconds_sum{{stream=\"{}\"}} {:.6f}\n", s->config().name,
                        static_cast<double>(c.latency_micros_sum.load()) / 1e6);
    text += fmt::format("sluice_stream_ack_latency_seconds_count{{stream=\"{}\"}} {}\n", s->config().name, cumulative);
  }
  return text;
}

}  // namespace sluice::streams
