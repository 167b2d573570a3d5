#include "scheduler/triggers/continuous/continuous_trigger.hpp"
#include "scheduler/triggers/file_arrival/file_arrival_trigger.hpp"
#include "scheduler/triggers/on_commit/on_commit_trigger.hpp"
#include "scheduler/triggers/on_demand/on_demand_trigger.hpp"
#include "scheduler/triggers/schedule/schedule_trigger.hpp"
#include "scheduler/triggers/trigger.hpp"
#include "scheduler/triggers/upstream/upstream_trigger.hpp"
#include "scheduler/triggers/webhook/webhook_trigger.hpp"

namespace sluice::scheduler::triggers {

void RegisterBuiltinTriggers(TriggerRegistry& registry) {
  // In name order: messages list the kinds in registration order.
  (void)registry.Register(ContinuousTriggerDescriptor());
  (void)registry.Register(FileArrivalTriggerDescriptor());
  (void)registry.Register(OnCommitTriggerDescriptor());
  (void)registry.Register(OnDemandTriggerDescriptor());
  (void)registry.Register(OnFailureTriggerDescriptor());
  (void)registry.Register(OnSuccessTriggerDescriptor());
  (void)registry.Register(ScheduleTriggerDescriptor());
  (void)registry.Register(WebhookTriggerDescriptor());
}

}  // namespace sluice::scheduler::triggers
