#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/status.hpp"

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

/// Tests only: a clock that reads "now" from a file on every call, so an end-to-end test can move
/// the time of a running `sluice serve` (settle times, "1 per day") without sleeping. The file holds
/// one UTC timestamp, "2026-11-23T10:56:00Z" (fractional seconds allowed); when it cannot be read
/// the clock keeps the last time it read.
class FileClock final : public Clock {
 public:
  static Result<std::unique_ptr<FileClock>> Make(std::filesystem::path file);
  TimePoint Now() const override;

 private:
  FileClock(std::filesystem::path file, TimePoint start) : file_(std::move(file)), last_us_(ToMicros(start)) {}
  static int64_t ToMicros(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  }
  std::filesystem::path file_;
  mutable std::atomic<int64_t> last_us_;
};

/// The system clock, or a FileClock when SLUICE_TEST_CLOCK_FILE is set (docs/testing.md).
Result<std::shared_ptr<const Clock>> ClockFromEnvironment();

/// "2026-11-23T10:56:00Z" or with fractional seconds → a time point; nullopt when malformed.
std::optional<TimePoint> ParseTimestampUtc(const std::string& text);

/// "2026-11-23T10:56:00.123456Z"
std::string FormatTimestampUtc(TimePoint t);
/// "2026-11-23"
std::string FormatDateUtc(TimePoint t);
/// "TIMESTAMP '2026-11-23 10:56:00.123456'": a SQL literal of `t` in UTC.
std::string SqlTimestampLiteral(TimePoint t);
int64_t ToUnixMicros(TimePoint t);
TimePoint FromUnixMicros(int64_t micros);

}  // namespace sluice
