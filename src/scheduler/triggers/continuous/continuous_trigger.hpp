#pragma once

#include "scheduler/triggers/switch_config.hpp"

namespace sluice::scheduler::triggers {

/// `continuous: true`: under `sluice serve` the pipeline runs all the time — a mode: cdc job
/// follows its change log (`sluice run --follow`) and is started again with backoff after a failure.
TriggerDescriptor ContinuousTriggerDescriptor();

}  // namespace sluice::scheduler::triggers
