#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace sluice {

using TimePoint = std::chrono::system_clock::time_point;

/// Source of "now". Injected so schedules, windows and load dates are testable without sleeping.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

/// A clock that moves only when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_us_(ToMicros(start)) {}
  TimePoint Now() const override { return TimePoint(std::chrono::microseconds(now_us_.load())); }
  void Set(TimePoint t) { now_us_ = ToMicros(t); }
  void Advance(std::chrono::microseconds d) { now_us_ += d.count(); }

 private:
  static int64_t ToMicros(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  }
  std::atomic<int64_t> now_us_;
};

/// "2026-11-23T10:56:00.123456Z"
std::string FormatTimestampUtc(TimePoint t);
/// "2026-11-23"
std::string FormatDateUtc(TimePoint t);
/// "TIMESTAMP '2026-11-23 10:56:00.123456'": a SQL literal of `t` in UTC.
std::string SqlTimestampLiteral(TimePoint t);
int64_t ToUnixMicros(TimePoint t);
TimePoint FromUnixMicros(int64_t micros);

}  // namespace sluice
