#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.hpp"
#include "scheduler/triggers/time_zone.hpp"
#include "scheduler/triggers/trigger.hpp"
#include "storage/object_store.hpp"

namespace sluice::scheduler::triggers::testing {

/// An instant from a UTC wall-clock reading.
inline TimePoint Utc(int y, int mo, int d, int h, int mi, int s = 0) {
  return TimePoint(std::chrono::seconds(CivilTime{y, mo, d, h, mi, s}.ToSeconds()));
}

/// Lists watched folders and prefixes through the object stores, as `sluice serve` does.
inline OpenFolder StoreFolders(storage::s3::S3Options s3 = {}) {
  return [s3](const std::string& location) -> Result<ListFolder> {
    SLUICE_ASSIGN_OR_RETURN(auto opened, storage::OpenObjectStore(location, s3, storage::s3::ProcessEnvironment()));
    std::shared_ptr<storage::ObjectStore> store = std::move(opened);
    return ListFolder([store]() -> Result<std::vector<ListedFile>> {
      SLUICE_ASSIGN_OR_RETURN(auto objects, store->List(""));
      std::vector<ListedFile> files;
      for (auto& object : objects) files.push_back({object.key, object.size, object.etag});
      return files;
    });
  };
}

/// The built-in polled trigger for `spec` (relative paths below `root`), failing the test if it cannot be built.
inline std::unique_ptr<PolledTrigger> MakeTrigger(const TriggerSpec& spec, const std::string& pipeline,
                                                  const std::filesystem::path& root, std::optional<std::string> state) {
  auto trigger = MakePolledTrigger(spec, PolledTriggerContext{pipeline, root, StoreFolders()}, std::move(state));
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
