#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scheduler/triggers/time_zone.hpp"
#include "scheduler/triggers/trigger.hpp"

namespace sluice::scheduler::triggers {

/// `max_runs: N per minute|hour|day|week`: calendar periods in the trigger's time zone (weeks
/// start on Monday).
struct MaxRuns {
  enum class Period { kMinute, kHour, kDay, kWeek };
  int64_t count = 1;
  Period period = Period::kDay;
  std::string ToString() const;
};

/// Parses "1 per day", "3 per hour", "2/week"; errors say the accepted form.
Result<MaxRuns> ParseMaxRuns(std::string_view text);

/// The period `t` falls in, as text ("2026-11-23" for a day, "2026-11-23T14" for an hour, the
/// Monday "2026-W2026-11-23" for a week, "2026-11-23T14:05" for a minute), and when the next begins.
std::string PeriodId(MaxRuns::Period period, TimePoint t, const TimeZone& zone);
TimePoint NextPeriodStart(MaxRuns::Period period, TimePoint t, const TimeZone& zone);

/// `file_arrival: {path, require | pattern, settle, max_runs, timeout, poll, timezone}`.
class FileArrivalConfig final : public TriggerConfig {
 public:
  std::string Describe() const override;

  std::string path;                  // as written: a folder (relative to the project) or s3://bucket/prefix
  std::vector<std::string> require;  // glob per file of a set; empty: any file matching `pattern`
  std::string pattern = "*";
  std::chrono::microseconds settle{std::chrono::seconds(30)};
  std::optional<MaxRuns> max_runs;
  std::optional<std::chrono::microseconds> timeout;
  std::chrono::microseconds poll{std::chrono::seconds(30)};
  std::shared_ptr<const TimeZone> zone;  // periods of max_runs
};

TriggerDescriptor FileArrivalTriggerDescriptor();

/// Whether `relative` (a '/'-separated path below the watched folder) matches a glob: '*' and '?'
/// within one path segment, '**' across segments; a pattern also matches the name with .gz/.zip.
bool MatchesFileGlob(const std::string& pattern, const std::string& relative);

/// The file_arrival trigger over a store rooted at the watched folder or prefix. `watch_folder`
/// (local folders only) adds inotify wake-ups; the listing stays the truth.
Result<std::unique_ptr<PolledTrigger>> MakeFileArrivalTrigger(std::string pipeline, std::string key,
                                                              std::shared_ptr<const FileArrivalConfig> config,
                                                              ListFolder list_folder,
                                                              std::optional<std::filesystem::path> watch_folder,
                                                              const std::optional<std::string>& saved_state);

}  // namespace sluice::scheduler::triggers
