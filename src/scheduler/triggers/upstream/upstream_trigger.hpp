#pragma once

#include <string>
#include <vector>

#include "scheduler/triggers/trigger.hpp"

namespace sluice::scheduler::triggers {

/// `on_success: PIPELINE` / `on_failure: PIPELINE` (or a list of names): run after a run of one of
/// those pipelines ends that way. The daemon reacts to finished runs itself; nothing is polled.
class UpstreamConfig final : public TriggerConfig {
 public:
  UpstreamConfig(std::string kind, std::vector<std::string> pipelines)
      : kind(std::move(kind)), pipelines(std::move(pipelines)) {}
  std::string Describe() const override;

  std::string kind;  // "on_success" | "on_failure"
  std::vector<std::string> pipelines;
};

TriggerDescriptor OnSuccessTriggerDescriptor();
TriggerDescriptor OnFailureTriggerDescriptor();

/// The pipelines named by the specs' `kind` triggers ("on_success" or "on_failure"), file order.
std::vector<std::string> UpstreamPipelines(const std::vector<TriggerSpec>& specs, std::string_view kind);

}  // namespace sluice::scheduler::triggers
