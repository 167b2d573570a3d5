#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/pipeline.hpp"
#include "transforms/step.hpp"

namespace sluice::pipeline {

/// A job's `steps:` (plus the merge implied by target.write: merge), built from the transforms
/// registry. The chain never knows step names: each step rewrites the previous relation.
class TransformChain {
 public:
  static Result<TransformChain> Build(const config::JobConfig& job, const std::string& pipeline);

  /// Lets steps such as repartition and merge change how the result is written.
  void AdjustWrite(transforms::WritePlan* plan) const;

  /// Creates one temporary view per step (named `<prefix>_<n>`) over `input`; returns the last
  /// one. SELECTs of rows the steps set aside are appended to `rejects`.
  Result<std::string> Apply(transforms::StepContext& context, const std::string& input, const std::string& prefix,
                            std::vector<std::string>* rejects) const;

 private:
  std::vector<std::shared_ptr<transforms::Step>> steps_;
};

}  // namespace sluice::pipeline
