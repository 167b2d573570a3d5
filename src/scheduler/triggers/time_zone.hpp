#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/status.hpp"

namespace sluice::scheduler::triggers {

/// A wall-clock date and time (no zone), to the second.
struct CivilTime {
  int year = 1970, month = 1, day = 1;  // month 1-12, day 1-31
  int hour = 0, minute = 0, second = 0;
  /// 0 = Sunday ... 6 = Saturday.
  int Weekday() const;
  /// Seconds since 1970-01-01T00:00:00 of this wall-clock reading (as if it were UTC).
  int64_t ToSeconds() const;
  static CivilTime FromSeconds(int64_t seconds);
  /// "2026-03-29 02:30:00"
  std::string ToString() const;
  friend bool operator==(const CivilTime&, const CivilTime&) = default;
};

/// How a wall-clock time maps to instants in a zone.
enum class LocalTimeKind {
  kUnique,
  kRepeated,  // the clock was set back: it happens twice; `instant` is the earlier one
  kSkipped,   // the clock jumped over it: `instant` is the first valid instant after the gap
};

struct LocalTimeMapping {
  TimePoint instant;
  LocalTimeKind kind = LocalTimeKind::kUnique;
};

/// An IANA time zone read from the system's TZif files (RFC 8536): the transition table of the
/// 64-bit section, and the POSIX TZ rule of its footer for instants past the table's end.
/// Immutable once loaded; share it freely across threads.
class TimeZone {
 public:
  /// "Europe/Berlin", "America/New_York", "UTC". "UTC", "Etc/UTC" and "Z" need no files. Files are
  /// read from `zoneinfo_dir`, or (when empty) $TZDIR, else /usr/share/zoneinfo.
  static Result<std::shared_ptr<const TimeZone>> Load(const std::string& name,
                                                      const std::filesystem::path& zoneinfo_dir = {});
  static std::shared_ptr<const TimeZone> Utc();
  /// Parses TZif bytes (exposed for tests of the footer rule and of malformed files).
  static Result<std::shared_ptr<const TimeZone>> FromTzif(const std::string& name, std::string_view bytes);
  /// A zone given by a POSIX TZ rule only, e.g. "CET-1CEST,M3.5.0,M10.5.0/3".
  static Result<std::shared_ptr<const TimeZone>> FromPosixRule(const std::string& name, const std::string& rule);

  const std::string& name() const { return name_; }
  /// Seconds east of UTC in effect at `t`.
  int32_t OffsetAt(TimePoint t) const;
  CivilTime ToLocal(TimePoint t) const;
  LocalTimeMapping FromLocal(const CivilTime& local) const;

  struct PosixRule;  // parsed footer; defined in time_zone.cpp
  ~TimeZone();
  TimeZone(const TimeZone&) = delete;
  TimeZone& operator=(const TimeZone&) = delete;

 private:
  TimeZone();
  int32_t OffsetAtSeconds(int64_t unix_seconds) const;

  std::string name_;
  std::vector<int64_t> transitions_;   // unix seconds, ascending
  std::vector<int32_t> offset_after_;  // offset in effect from transitions_[i] on
  int32_t offset_before_first_ = 0;    // before the first transition (or always, without any)
  std::unique_ptr<PosixRule> footer_;  // null: the last table offset holds forever
};

}  // namespace sluice::scheduler::triggers
