#pragma once

#include <string>
#include <vector>

#include "scheduler/triggers/trigger.hpp"

namespace sluice::scheduler::triggers {

/// A kind switched on or off with `KIND: true|false` (webhook, on_demand); `false` is the same as
/// leaving the item out.
class SwitchConfig final : public TriggerConfig {
 public:
  SwitchConfig(std::string kind, bool enabled) : kind(std::move(kind)), enabled(enabled) {}
  std::string Describe() const override { return kind + (enabled ? "" : " (off)"); }

  std::string kind;
  bool enabled;
};

/// A descriptor for a switch kind.
TriggerDescriptor SwitchTriggerDescriptor(std::string kind, std::string summary);

/// Whether the specs hold `kind` switched on.
bool IsEnabled(const std::vector<TriggerSpec>& specs, std::string_view kind);

}  // namespace sluice::scheduler::triggers
