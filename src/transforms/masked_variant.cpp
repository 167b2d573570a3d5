#include "transforms/masked_variant.hpp"

#include <fmt/format.h>

#include "transforms/mask.hpp"
#include "transforms/steps/mask/mask_step.hpp"

namespace sluice::transforms {
namespace {

std::string MaskOfJob(const std::string& job) { return fmt::format("mask: of job '{}'", job); }

}  // namespace

Status ValidateJobMask(const config::Value& mask, const std::string& job) {
  return ParseColumnMasks(mask, MaskOfJob(job)).status();
}

Result<std::string> MaskedVariantSelect(engine::Connection& connection, const std::string& relation,
                                        const config::Value& mask, const std::string& job, const Secret& key) {
  SLUICE_ASSIGN_OR_RETURN(auto masks, ParseColumnMasks(mask, MaskOfJob(job)));
  auto masked_sql = MaskedSelect(connection, relation, masks, key);
  if (!masked_sql.ok()) return masked_sql.status().WithContext("{}: {}", mask.location().ToString(), MaskOfJob(job));
  return masked_sql;
}

}  // namespace sluice::transforms
