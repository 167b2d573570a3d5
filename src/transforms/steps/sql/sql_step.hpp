#pragma once

#include "transforms/step.hpp"

namespace sluice::transforms {

StepDescriptor SqlStepDescriptor();

}  // namespace sluice::transforms
