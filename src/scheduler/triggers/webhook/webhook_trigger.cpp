#include "scheduler/triggers/webhook/webhook_trigger.hpp"

namespace sluice::scheduler::triggers {

TriggerDescriptor WebhookTriggerDescriptor() {
  return SwitchTriggerDescriptor(
      "webhook", "an HTTP POST to /api/v1/pipelines/NAME/trigger starts a run (Bearer server.token when one is set)");
}

}  // namespace sluice::scheduler::triggers
