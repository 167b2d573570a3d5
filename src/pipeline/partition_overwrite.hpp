#pragma once

#include <string>
#include <vector>

#include "common/status.hpp"
#include "engine/engine.hpp"
#include "pipeline/transform_chain.hpp"
#include "transforms/step.hpp"

namespace sluice::pipeline {

/// The output partitions the new input of a processing job reaches (write: overwrite_partitions):
/// these are recomputed from the whole inputs, so that a partition is never replaced with what the
/// new rows alone produce.
struct PartitionOverwrite {
  /// Selects the rows of those partitions: per column an IN list (pushed down to the scans), and
  /// the exact combinations; "false" when the new input reaches none.
  std::string condition;
  size_t partitions = 0;
};

/// Runs the steps over `relation` (the new input) and reads which values of `partition_by` they
/// produce. `table` and `job` name the target and the job in messages.
Result<PartitionOverwrite> PlanPartitionOverwrite(engine::Connection& connection, const TransformChain& chain,
                                                  transforms::StepContext& step_context, const std::string& relation,
                                                  const std::vector<std::string>& partition_by,
                                                  const std::string& table, const std::string& job);

}  // namespace sluice::pipeline
