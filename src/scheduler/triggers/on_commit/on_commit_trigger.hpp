#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scheduler/triggers/trigger.hpp"

namespace sluice::scheduler::triggers {

/// How often the tables' versions are read while nothing is pending (clock time).
inline constexpr std::chrono::seconds kOnCommitCheckEvery{2};

/// `on_commit: zone.table` (or a list) with `min_interval:`: run when a watched lake table gets a new
/// committed version — the way a processing pipeline follows the tables a CDC pipeline or a stream fills.
class OnCommitConfig final : public TriggerConfig {
 public:
  OnCommitConfig(std::vector<std::string> tables, std::chrono::microseconds min_interval)
      : tables(std::move(tables)), min_interval(min_interval) {}
  std::string Describe() const override;

  std::vector<std::string> tables;  // "zone.table"
  std::chrono::microseconds min_interval;
};

TriggerDescriptor OnCommitTriggerDescriptor();

/// The trigger. State: the version of each table the last run was started for, and when. Without a
/// saved state it starts from the tables' versions at its first Poll (commits before it are not
/// owed a run). New versions start one run; more commits within `min_interval` of the last run wait
/// and are covered by one run when the interval has passed.
Result<std::unique_ptr<PolledTrigger>> MakeOnCommitTrigger(std::string pipeline, std::string key,
                                                           std::shared_ptr<const OnCommitConfig> config,
                                                           TableVersionReader table_version,
                                                           const std::optional<std::string>& saved_state);

}  // namespace sluice::scheduler::triggers
