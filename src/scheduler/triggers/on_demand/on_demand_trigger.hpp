#pragma once

#include "scheduler/triggers/switch_config.hpp"

namespace sluice::scheduler::triggers {

/// `on_demand: true`: the pipeline is meant to be started by hand (`sluice run`, the API).
TriggerDescriptor OnDemandTriggerDescriptor();

}  // namespace sluice::scheduler::triggers
