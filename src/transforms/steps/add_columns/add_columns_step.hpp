#pragma once

#include "transforms/step.hpp"

namespace sluice::transforms {

StepDescriptor AddColumnsStepDescriptor();

}  // namespace sluice::transforms
