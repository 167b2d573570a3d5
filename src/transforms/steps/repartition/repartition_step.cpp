#include "transforms/steps/repartition/repartition_step.hpp"

#include <fmt/format.h>

namespace sluice::transforms {
namespace {

class RepartitionStep : public Step {
 public:
  RepartitionStep(std::vector<std::string> by, std::optional<uint64_t> file_bytes)
      : by_(std::move(by)), file_bytes_(file_bytes) {}
  Result<std::string> Rewrite(StepContext& context, const std::string& input) override {
    (void)context;
    return "SELECT * FROM " + input;
  }
  void AdjustWrite(WritePlan* plan) const override {
    if (!by_.empty()) plan->partition_by = by_;
    if (file_bytes_) plan->target_file_bytes = file_bytes_;
  }

 private:
  std::vector<std::string> by_;
  std::optional<uint64_t> file_bytes_;
};

}  // namespace

StepDescriptor RepartitionStepDescriptor() {
  return {"repartition",
          "write the result partitioned by columns (folders col=value/) with a target file size; replaces "
          "target.partition_by",
          {{"by", config::OptionType::kStringList, "", false, false, "partition columns, e.g. [country, event_date]"},
           {"file_size", config::OptionType::kByteSize, "", false, false, "target size of each file, e.g. 128MB"}},
          [](const config::Value& options, const std::string& where) -> Result<std::unique_ptr<Step>> {
            std::vector<std::string> by;
            std::optional<uint64_t> bytes;
            if (options.IsList()) {
              SLUICE_ASSIGN_OR_RETURN(by, options.AsStringList());
            } else {
              SLUICE_TRY(ValidateStepOptions(options, RepartitionStepDescriptor().options, where));
              if (const auto* b = options.Find("by")) {
                SLUICE_ASSIGN_OR_RETURN(by, b->AsStringList());
              }
              if (const auto* s = options.Find("file_size")) {
                SLUICE_ASSIGN_OR_RETURN(bytes, s->AsByteSize());
              }
            }
            if (by.empty() && !bytes) {
              return Status::Invalid("{}: {} needs by: [columns], file_size: or both", options.location().ToString(),
                                     where);
            }
            return MakeStep<RepartitionStep>(std::move(by), bytes);
          }};
}

}  // namespace sluice::transforms
