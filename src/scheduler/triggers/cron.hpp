#pragma once

#include <bitset>
#include <optional>
#include <string>

#include "common/clock.hpp"
#include "common/status.hpp"
#include "scheduler/triggers/time_zone.hpp"

namespace sluice::scheduler::triggers {

/// A cron expression: 5 fields "minute hour day-of-month month day-of-week" or 6 with seconds
/// first. Each field: `*`, a value, a range `a-b`, a step `*/n` or `a-b/n` or `a/n`, and lists of
/// these separated by ','. Months JAN-DEC and weekdays SUN-SAT by name (any case); 0 and 7 are
/// Sunday; `?` means `*` in the day fields. @yearly @annually @monthly @weekly @daily @midnight
/// @hourly are shorthands. When both day fields are restricted (neither starts with `*`), a day
/// matches if either does (the classic cron rule).
class CronSchedule {
 public:
  /// Errors name the field, the offending text and the allowed range.
  static Result<CronSchedule> Parse(const std::string& expression);

  const std::string& expression() const { return expression_; }
  bool has_seconds() const { return has_seconds_; }

  /// Whether the wall-clock time matches (to the second).
  bool Matches(const CivilTime& local) const;

  /// The first fire instant strictly after `after`, in the zone's wall-clock time. A wall-clock
  /// time that does not exist (clocks spring forward) fires at the first instant after the gap;
  /// one that happens twice (clocks fall back) fires once, at its first occurrence. Several
  /// skipped times map to the same instant and fire once. nullopt: never fires again (e.g. 30 Feb).
  std::optional<TimePoint> NextFireAfter(TimePoint after, const TimeZone& zone) const;

 private:
  std::optional<int64_t> NextMatchAtOrAfter(int64_t wall_seconds) const;
  bool DayMatches(const CivilTime& day) const;

  std::string expression_;
  bool has_seconds_ = false;
  std::bitset<60> seconds_, minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_of_month_;  // 1..31
  std::bitset<13> months_;         // 1..12
  std::bitset<7> days_of_week_;    // 0 = Sunday
  bool dom_restricted_ = false, dow_restricted_ = false;
};

}  // namespace sluice::scheduler::triggers
