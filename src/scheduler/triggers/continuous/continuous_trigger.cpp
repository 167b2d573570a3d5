#include "scheduler/triggers/continuous/continuous_trigger.hpp"

namespace sluice::scheduler::triggers {

TriggerDescriptor ContinuousTriggerDescriptor() {
  return SwitchTriggerDescriptor(
      "continuous",
      "sluice serve keeps the pipeline running: a mode: cdc job follows its change log and is restarted with backoff "
      "after a failure");
}

}  // namespace sluice::scheduler::triggers
