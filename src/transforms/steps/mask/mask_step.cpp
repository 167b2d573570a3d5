#include "transforms/steps/mask/mask_step.hpp"

#include <fmt/format.h>

namespace sluice::transforms {
namespace {

class MaskStep : public Step {
 public:
  explicit MaskStep(std::vector<ColumnMask> masks) : masks_(std::move(masks)) {}

  Result<std::string> Rewrite(StepContext& context, const std::string& input) override {
    return MaskedSelect(context.connection, input, masks_, context.mask_key);
  }

 private:
  std::vector<ColumnMask> masks_;
};

}  // namespace

Result<std::vector<ColumnMask>> ParseColumnMasks(const config::Value& mask, const std::string& where) {
  if (!mask.IsMap() || mask.entries().empty()) {
    return Status::Invalid("{}: {} needs a map of column: hash | redact | partial, e.g. {{account_number: hash}}",
                           mask.location().ToString(), where);
  }
  std::vector<ColumnMask> masks;
  for (const auto& [column, value] : mask.entries()) {
    ColumnMask m;
    m.column = column;
    std::string method_text;
    if (value.IsMap()) {
      SLUICE_ASSIGN_OR_RETURN(method_text, value.GetString("method", "hash"));
      SLUICE_ASSIGN_OR_RETURN(auto show_last, value.GetInt("show_last", 4));
      m.show_last = static_cast<int>(show_last);
    } else if (value.IsScalar()) {
      method_text = value.scalar();
    }
    auto method = ParseMaskMethod(method_text);
    if (!method.ok()) {
      return Status::Invalid("{}: column '{}' of {}: {}", value.location().ToString(), column, where,
                             method.status().message());
    }
    m.method = *method;
    masks.push_back(std::move(m));
  }
  return masks;
}

StepDescriptor MaskStepDescriptor() {
  return {"mask",
          "protect columns: column: hash (keyed HMAC-SHA256 with masking.key of sluice.yaml) | redact (***) | "
          "partial (only the last 4 characters shown; {method: partial, show_last: N} for another count)",
          {},
          [](const config::Value& options, const std::string& where) -> Result<std::unique_ptr<Step>> {
            SLUICE_ASSIGN_OR_RETURN(auto masks, ParseColumnMasks(options, where));
            return MakeStep<MaskStep>(std::move(masks));
          }};
}

}  // namespace sluice::transforms
