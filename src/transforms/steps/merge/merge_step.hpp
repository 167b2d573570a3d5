#pragma once

#include "transforms/step.hpp"

namespace sluice::transforms {

StepDescriptor MergeStepDescriptor();

}  // namespace sluice::transforms
