#pragma once

#include <fmt/format.h>

#include <memory>
#include <string>

#include "common/status.hpp"
#include "config/value.hpp"
#include "scheduler/triggers/time_zone.hpp"

// Helpers shared by the trigger kinds' parsers.
namespace sluice::scheduler::triggers {

/// "FILE:LINE:COL: triggers[0].schedule: <message>" (location and key path of `at`).
Status InvalidAt(const config::Value& at, std::string_view message);

/// The `timezone:` key of `map` (default UTC), loaded; errors name the key's location.
Result<std::shared_ptr<const TimeZone>> ParseTimeZoneKey(const config::Value& map);

}  // namespace sluice::scheduler::triggers
