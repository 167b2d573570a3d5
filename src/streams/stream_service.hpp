#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.hpp"
#include "config/stream.hpp"
#include "pipeline/workspace.hpp"
#include "streams/spool.hpp"

namespace sluice::streams {

/// Counters of one stream for /metrics.
struct StreamCounters {
  std::atomic<uint64_t> records_received{0}, bytes_received{0};
  std::atomic<uint64_t> records_acknowledged{0}, bytes_acknowledged{0};
  std::atomic<uint64_t> records_failed{0};
  std::atomic<uint64_t> records_flushed{0}, rows_rejected{0}, bytes_flushed{0}, flushes{0}, flush_failures{0};
  std::atomic<uint64_t> throttled{0};
  static constexpr std::array<double, 12> kLatencyBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                             0.1,   0.25,   0.5,   1.0,  2.5,   10.0};
  std::array<std::atomic<uint64_t>, kLatencyBuckets.size() + 1> latency_counts{};
  std::atomic<uint64_t> latency_micros_sum{0};
  void ObserveLatency(std::chrono::microseconds latency);
};

/// What Accept did with a request's records.
struct AcceptOutcome {
  enum class Kind { kDurable, kRemembered, kSpoolFull } kind = Kind::kDurable;
  std::string answer;  // kRemembered: the first answer under the same key
  SpoolTicket ticket;
};

/// One configured stream inside `sluice serve`: its spool, and the thread that flushes it into the lake
/// when `buffer.max_bytes` or `buffer.max_age` (by the workspace's clock) is reached.
class StreamService {
 public:
  /// Recovers the spool against the segment the catalog has committed.
  static Result<std::unique_ptr<StreamService>> Open(pipeline::Workspace& workspace, config::StreamConfig config);
  ~StreamService();

  const config::StreamConfig& config() const { return config_; }
  StreamCounters& counters() { return counters_; }
  uint64_t spool_bytes() const { return spool_->disk_bytes(); }

  /// Appends checked records (and `answer` under a non-empty idempotency `key`) and returns once they are
  /// fsync'd. A key seen before returns its first answer, landing nothing again.
  Result<AcceptOutcome> Accept(const std::vector<std::string>& records, const std::string& key,
                               const std::string& answer);
  /// Asks for a flush now and waits until spool segment `segment` is committed to the lake; Timeout after
  /// `timeout`.
  Status WaitInLake(uint64_t segment, std::chrono::milliseconds timeout);

  void Start();
  void Stop();

 private:
  StreamService(pipeline::Workspace& workspace, config::StreamConfig config, std::unique_ptr<Spool> spool,
                uint64_t committed);
  void FlushLoop();
  /// Flushes the sealed segments in order; false when one failed (it is retried later). `trigger` says why
  /// the newest one was sealed (max_bytes, max_age, ack=lake); the run records of older ones say restart.
  bool FlushSealed(const std::vector<uint64_t>& sealed, const std::string& trigger);
  /// Segments up to `segment` are in the lake: wakes ?ack=lake waiters.
  void MarkCommitted(uint64_t segment);

  pipeline::Workspace& workspace_;
  config::StreamConfig config_;
  std::unique_ptr<Spool> spool_;
  StreamCounters counters_;

  std::mutex mutex_;
  std::condition_variable wake_;       // the flusher: a flush may be due
  std::condition_variable committed_;  // ?ack=lake waiters
  uint64_t committed_segment_ = 0;
  uint64_t flush_through_ = 0;  // a flush was asked for up to this segment
  bool stopping_ = false;
  std::thread flusher_;
};

/// Every stream of the project, by name.
class StreamHub {
 public:
  static Result<std::unique_ptr<StreamHub>> Open(pipeline::Workspace& workspace,
                                                 const std::vector<config::StreamConfig>& streams);
  StreamService* Find(const std::string& name) const;
  const std::vector<std::unique_ptr<StreamService>>& streams() const { return streams_; }
  void Start();
  void Stop();
  /// Prometheus text of every stream's counters.
  std::string MetricsText() const;

 private:
  std::vector<std::unique_ptr<StreamService>> streams_;
};

}  // namespace sluice::streams
