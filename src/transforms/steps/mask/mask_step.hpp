#pragma once

#include <string>
#include <vector>

#include "config/options.hpp"
#include "config/value.hpp"
#include "transforms/mask.hpp"
#include "transforms/step.hpp"

namespace sluice::transforms {

StepDescriptor MaskStepDescriptor();

/// The keys of one column's map form, `{method: partial, show_last: 2}` (docs/transforms.md).
const std::vector<config::OptionSpec>& ColumnMaskKeys();

/// `{account_number: hash, customer_name: redact, phone: partial}`; a column may also take
/// `{method: partial, show_last: 2}`. Errors carry file:line and `where`.
Result<std::vector<ColumnMask>> ParseColumnMasks(const config::Value& mask, const std::string& where);

}  // namespace sluice::transforms
