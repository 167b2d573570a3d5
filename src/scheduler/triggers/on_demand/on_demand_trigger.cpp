#include "scheduler/triggers/on_demand/on_demand_trigger.hpp"

namespace sluice::scheduler::triggers {

TriggerDescriptor OnDemandTriggerDescriptor() {
  return SwitchTriggerDescriptor("on_demand", "started by hand: `sluice run PIPELINE` or the API");
}

}  // namespace sluice::scheduler::triggers
