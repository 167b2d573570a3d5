#include "transforms/steps/mask/mask_step.hpp"

#include <fmt/format.h>

#include "config/option_reader.hpp"

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

const std::vector<config::OptionSpec>& ColumnMaskKeys() {
  using config::OptionType;
  static const std::vector<config::OptionSpec> kKeys = {
      {"method", OptionType::kString, "hash", false, false, "hash | redact | partial"},
      {"show_last", OptionType::kInt, "4", false, false,
       "partial: how many of the last characters stay visible, 0 to 1000 (values no longer than this are starred out "
       "whole)"},
  };
  return kKeys;
}

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
      SLUICE_ASSIGN_OR_RETURN(auto keys, config::OptionReader::Validated(
                                             value, ColumnMaskKeys(), fmt::format("column '{}' of {}", column, where)));
      SLUICE_ASSIGN_OR_RETURN(method_text, keys.String("method"));
      SLUICE_ASSIGN_OR_RETURN(auto show_last, keys.Int("show_last"));
      if (show_last < 0 || show_last > 1000) {
        return Status::Invalid("{}: show_last of column '{}' of {} must be between 0 and 1000",
                               value.KeyLocation("show_last").ToString(), column, where);
      }
      m.show_last = static_cast<int>(show_last);
    } else if (value.IsScalar()) {
      method_text = value.scalar();
    } else {
      return Status::Invalid(
          "{}: column '{}' of {} takes hash, redact or partial, or a map such as {{method: partial, show_last: 2}}",
          value.location().ToString(), column, where);
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
