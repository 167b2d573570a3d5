#include "pipeline/query_limits.hpp"

#include "common/strings.hpp"

namespace sluice::pipeline {

Status CheckScanLimit(const config::Value& query_config, const ScanPlan& plan) {
  SLUICE_ASSIGN_OR_RETURN(uint64_t limit, query_config.GetByteSize("max_bytes_scanned", 0));
  if (limit == 0) return Status::OK();
  ScanEstimate estimate = EstimateScan(plan);
  if (estimate.bytes <= limit) return Status::OK();
  return Status::Invalid(
      "query refused: it would scan {} ({} bytes in {} files of {}; {} files pruned by partition), over the limit "
      "query.max_bytes_scanned = {} ({} bytes) in sluice.yaml; filter on a partition column or raise the limit",
      HumanBytes(estimate.bytes), estimate.bytes, estimate.files, Join(estimate.tables, ", "), estimate.files_pruned,
      HumanBytes(limit), limit);
}

}  // namespace sluice::pipeline
