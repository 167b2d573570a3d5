#pragma once

#include "scheduler/triggers/switch_config.hpp"

namespace sluice::scheduler::triggers {

/// `webhook: true`: POST /api/v1/pipelines/NAME/trigger starts a run (with server.token when set).
TriggerDescriptor WebhookTriggerDescriptor();

}  // namespace sluice::scheduler::triggers
