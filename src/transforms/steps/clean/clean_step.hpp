#pragma once

#include "transforms/step.hpp"

namespace sluice::transforms {

StepDescriptor CleanStepDescriptor();

}  // namespace sluice::transforms
