#include "scheduler/triggers/file_arrival/file_arrival_trigger.hpp"
#include "scheduler/triggers/on_demand/on_demand_trigger.hpp"
#include "scheduler/triggers/schedule/schedule_trigger.hpp"
#include "scheduler/triggers/trigger.hpp"
#include "scheduler/triggers/upstream/upstream_trigger.hpp"
#include "scheduler/triggers/webhook/webhook_trigger.hpp"

namespace sluice::scheduler::triggers {

void RegisterBuiltinTriggers(TriggerRegistry& registry) {
  registry.Add(ScheduleTriggerDescriptor());
  registry.Add(FileArrivalTriggerDescriptor());
  registry.Add(OnSuccessTriggerDescriptor());
  registry.Add(OnFailureTriggerDescriptor());
  registry.Add(WebhookTriggerDescriptor());
  registry.Add(OnDemandTriggerDescriptor());
}

}  // namespace sluice::scheduler::triggers
