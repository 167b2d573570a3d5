#include "scheduler/triggers/schedule/schedule_trigger.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/strings.hpp"
#include "scheduler/triggers/parse_util.hpp"

namespace sluice::scheduler::triggers {

std::string FormatInstant(TimePoint t) {
  CivilTime c = TimeZone::Utc()->ToLocal(t);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", c.year, c.month, c.day, c.hour, c.minute, c.second);
}

std::string ScheduleConfig::Describe() const {
  return fmt::format("schedule \"{}\" ({}, catch_up: {})", cron.expression(), zone->name(),
                     catch_up == CatchUp::kSkip ? "skip" : "run_once");
}

namespace {

class ScheduleTrigger final : public PolledTrigger {
 public:
  ScheduleTrigger(std::string pipeline, std::string key, std::shared_ptr<const ScheduleConfig> config,
                  std::optional<TimePoint> last_fire)
      : pipeline_(std::move(pipeline)), key_(std::move(key)), config_(std::move(config)), last_fire_(last_fire) {}

  std::string Key() const override { return key_; }

  Result<TriggerPoll> Poll(TimePoint now) override {
    TriggerPoll poll;
    if (!last_fire_) {
      last_fire_ = now;  // first start: nothing in the past is owed
      poll.state = State();
      poll.state_changed = true;
      return poll;
    }
    auto first_due = config_->cron.NextFireAfter(*last_fire_, *config_->zone);
    if (!first_due || *first_due > now) {
      poll.state = State();
      return poll;
    }
    TimePoint latest = LatestDueAtOrBefore(*first_due, now);
    const bool on_time = now - latest <= kScheduleGrace;
    const bool missed_some = !on_time || latest != *first_due;
    if (on_time || config_->catch_up == CatchUp::kRunOnce) {
      TriggerEvent event;
      event.pipeline = pipeline_;
      event.kind = "schedule";
      event.dedup_key = "schedule:" + FormatInstant(latest);
      const CivilTime local = config_->zone->ToLocal(latest);
      if (!missed_some) {
        event.detail = fmt::format("{}: due at {} {}", config_->Describe(), local.ToString(), config_->zone->name());
      } else if (config_->catch_up == CatchUp::kRunOnce) {
        event.detail = fmt::format(
            "{}: one catch-up run for the fire times from {} to {} {} missed while the daemon "
            "was not running",
            config_->Describe(), config_->zone->ToLocal(*first_due).ToString(), local.ToString(),
            config_->zone->name());
      } else {
        event.detail =
            fmt::format("{}: due at {} {}; earlier fire times since {} were missed and skipped", config_->Describe(),
                        local.ToString(), config_->zone->name(), config_->zone->ToLocal(*first_due).ToString());
      }
      poll.events.push_back(std::move(event));
    }
    last_fire_ = latest;
    poll.state = State();
    poll.state_changed = true;
    return poll;
  }

  std::optional<TimePoint> NextWake(TimePoint now) const override {
    return config_->cron.NextFireAfter(last_fire_ ? *last_fire_ : now, *config_->zone);
  }

 private:
  /// The last fire time in [first_due, now]. Looks back over growing windows first, so a long
  /// downtime of a frequent schedule does not walk every missed second.
  TimePoint LatestDueAtOrBefore(TimePoint first_due, TimePoint now) const {
    using std::chrono::hours;
    TimePoint from = first_due;
    for (auto window : {std::chrono::duration_cast<std::chrono::seconds>(std::chrono::minutes(1)),
                        std::chrono::duration_cast<std::chrono::seconds>(hours(1)),
                        std::chrono::duration_cast<std::chrono::seconds>(hours(24)),
                        std::chrono::duration_cast<std::chrono::seconds>(hours(24 * 32)),
                        std::chrono::duration_cast<std::chrono::seconds>(hours(24 * 366))}) {
      if (now - window <= first_due) break;
      auto probe = config_->cron.NextFireAfter(now - window, *config_->zone);
      if (probe && *probe <= now) {
        from = *probe;
        break;
      }
    }
    TimePoint latest = from;
    while (true) {
      auto next = config_->cron.NextFireAfter(latest, *config_->zone);
      if (!next || *next > now) return latest;
      latest = *next;
    }
  }

  std::string State() const {
    nlohmann::json state = {{"version", 1},
                            {"expression", config_->cron.expression()},
                            {"last_fire", FormatInstant(*last_fire_)},
                            {"last_fire_us", ToUnixMicros(*last_fire_)}};
    return state.dump();
  }

  std::string pipeline_, key_;
  std::shared_ptr<const ScheduleConfig> config_;
  std::optional<TimePoint> last_fire_;
};

Result<CatchUp> ParseCatchUp(const config::Value& item) {
  const config::Value* value = item.Find("catch_up");
  if (value == nullptr || value->IsNull()) return CatchUp::kSkip;
  SLUICE_ASSIGN_OR_RETURN(std::string text, value->AsString());
  if (text == "skip") return CatchUp::kSkip;
  if (text == "run_once") return CatchUp::kRunOnce;
  std::string nearest = NearestWord(text, {"skip", "run_once"});
  return InvalidAt(*value, fmt::format("catch_up '{}' is not skip or run_once{}", text,
                                       nearest.empty() ? "" : fmt::format(" (did you mean '{}'?)", nearest)));
}

}  // namespace

std::unique_ptr<PolledTrigger> MakeScheduleTrigger(std::string pipeline, std::string key,
                                                   std::shared_ptr<const ScheduleConfig> config,
                                                   std::optional<TimePoint> last_fire) {
  return std::make_unique<ScheduleTrigger>(std::move(pipeline), std::move(key), std::move(config), last_fire);
}

Result<std::unique_ptr<PolledTrigger>> MakeScheduleTrigger(std::string pipeline, std::string key,
                                                           std::shared_ptr<const ScheduleConfig> config,
                                                           const std::optional<std::string>& saved_state) {
  std::optional<TimePoint> last_fire;
  if (saved_state && !saved_state->empty()) {
    auto json = nlohmann::json::parse(*saved_state, nullptr, false);
    if (json.is_discarded() || !json.is_object() || !json.contains("last_fire_us") ||
        !json["last_fire_us"].is_number_integer()) {
      return Status::DataError(
          "saved state of trigger {} of pipeline '{}' is not readable ({}); the daemon would have to guess which "
          "fire times ran: remove the saved state to start fresh (no past fire times will run)",
          key, pipeline, saved_state->substr(0, 80));
    }
    last_fire = FromUnixMicros(json["last_fire_us"].get<int64_t>());
  }
  return MakeScheduleTrigger(std::move(pipeline), std::move(key), std::move(config), last_fire);
}

TriggerDescriptor ScheduleTriggerDescriptor() {
  using config::OptionType;
  TriggerDescriptor d;
  d.kind = "schedule";
  d.summary = "run at the times a cron expression names, in a time zone";
  d.value_form = "a cron expression: 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first)";
  d.options = {
      {"timezone", OptionType::kString, "UTC", false, false,
       "IANA time zone the cron fields are read in, e.g. Europe/Berlin (daylight saving handled)"},
      {"catch_up", OptionType::kString, "skip", false, false,
       "fire times missed while the daemon was down: skip (drop them) or run_once (one run for all of them)"},
  };
  d.parse = [](const config::Value& item, const TriggerParseContext&) -> Result<std::shared_ptr<const TriggerConfig>> {
    const config::Value& value = *item.Find("schedule");
    if (!value.IsScalar()) return InvalidAt(value, "must be a cron expression in quotes, e.g. \"*/15 * * * *\"");
    auto cron = CronSchedule::Parse(value.scalar());
    if (!cron.ok()) return InvalidAt(value, cron.status().message());
    SLUICE_ASSIGN_OR_RETURN(auto zone, ParseTimeZoneKey(item));
    SLUICE_ASSIGN_OR_RETURN(CatchUp catch_up, ParseCatchUp(item));
    return std::shared_ptr<const TriggerConfig>(std::make_shared<ScheduleConfig>(std::move(*cron), zone, catch_up));
  };
  d.make_polled = [](const TriggerSpec& spec, const PolledTriggerContext& context,
                     std::optional<std::string> saved_state) -> Result<std::unique_ptr<PolledTrigger>> {
    auto config = std::dynamic_pointer_cast<const ScheduleConfig>(spec.config);
    if (config == nullptr) return Status::Internal("trigger {} has no schedule config", spec.key);
    return MakeScheduleTrigger(context.pipeline, spec.key, std::move(config), saved_state);
  };
  return d;
}

}  // namespace sluice::scheduler::triggers
