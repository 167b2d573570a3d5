#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "scheduler/triggers/cron.hpp"
#include "scheduler/triggers/time_zone.hpp"
#include "scheduler/triggers/trigger.hpp"

namespace sluice::scheduler::triggers {

/// What happens to fire times that passed while the daemon was not running.
enum class CatchUp {
  kSkip,     // dropped; the next fire time runs as usual
  kRunOnce,  // one run stands in for all of them
};

/// A fire time is on time while the daemon sees it at most this late; later it counts as missed.
inline constexpr std::chrono::seconds kScheduleGrace{120};

/// `schedule: CRON` with `timezone:` (default UTC) and `catch_up:` (default skip).
class ScheduleConfig final : public TriggerConfig {
 public:
  ScheduleConfig(CronSchedule cron, std::shared_ptr<const TimeZone> zone, CatchUp catch_up)
      : cron(std::move(cron)), zone(std::move(zone)), catch_up(catch_up) {}
  std::string Describe() const override;

  CronSchedule cron;
  std::shared_ptr<const TimeZone> zone;
  CatchUp catch_up;
};

TriggerDescriptor ScheduleTriggerDescriptor();

/// The schedule trigger. State: the last fire time handled (fired or skipped). Without a saved
/// state it starts at the first Poll's `now` and fires nothing for the past. Each Poll emits at
/// most one event: the latest due fire time if on time (skip), or one run for everything due
/// (run_once); a fire time is never emitted twice.
std::unique_ptr<PolledTrigger> MakeScheduleTrigger(std::string pipeline, std::string key,
                                                   std::shared_ptr<const ScheduleConfig> config,
                                                   std::optional<TimePoint> last_fire);
/// As above, reading `saved_state` (an earlier Poll's state).
Result<std::unique_ptr<PolledTrigger>> MakeScheduleTrigger(std::string pipeline, std::string key,
                                                           std::shared_ptr<const ScheduleConfig> config,
                                                           const std::optional<std::string>& saved_state);

/// "2026-11-23T01:00:00Z" (whole seconds, UTC).
std::string FormatInstant(TimePoint t);

}  // namespace sluice::scheduler::triggers
