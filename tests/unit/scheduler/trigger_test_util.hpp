#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.hpp"
#include "scheduler/triggers/time_zone.hpp"
#include "scheduler/triggers/trigger.hpp"

namespace sluice::scheduler::triggers::testing {

/// An instant from a UTC wall-clock reading.
inline TimePoint Utc(int y, int mo, int d, int h, int mi, int s = 0) {
  return TimePoint(std::chrono::seconds(CivilTime{y, mo, d, h, mi, s}.ToSeconds()));
}

/// The built-in polled trigger for `spec` (relative paths below `root`), failing the test if it cannot be built.
inline std::unique_ptr<PolledTrigger> MakeTrigger(const TriggerSpec& spec, const std::string& pipeline,
                                                  const std::filesystem::path& root,
                                                  std::optional<std::string> state) {
  auto trigger = MakePolledTrigger(spec, PolledTriggerContext{pipeline, root, {}, {}}, std::move(state));
  EXPECT_TRUE(trigger.ok()) << trigger.status();
  return trigger.ok() ? std::move(*trigger) : nullptr;
}

/// Polls at the clock's time, failing the test on an error.
inline TriggerPoll PollAt(PolledTrigger& trigger, const Clock& clock) {
  auto poll = trigger.Poll(clock.Now());
  EXPECT_TRUE(poll.ok()) << poll.status();
  return poll.ok() ? *poll : TriggerPoll{};
}

}  // namespace sluice::scheduler::triggers::testing
