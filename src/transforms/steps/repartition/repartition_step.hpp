#pragma once

#include "transforms/step.hpp"

namespace sluice::transforms {

StepDescriptor RepartitionStepDescriptor();

}  // namespace sluice::transforms
