#pragma once

#include <string>
#include <vector>

#include "common/status.hpp"
#include "config/pipeline.hpp"

namespace sluice::scheduler {

/// What the daemon needs to know of one pipeline's `triggers:` besides the polled ones.
struct PipelineTriggers {
  std::vector<std::string> after_success;  // pipelines whose success starts this one
  std::vector<std::string> after_failure;  // pipelines whose failure starts this one
  /// `webhook: true` or `on_demand: true`, or no triggers at all: POST …/trigger may start it.
  bool accepts_api = false;
};

/// Reads the chained and on-demand entries of `pipeline.triggers`; `known_pipelines` checks the names
/// on_success/on_failure refer to. Errors name the file, line and key.
Result<PipelineTriggers> ReadPipelineTriggers(const config::PipelineConfig& pipeline,
                                              const std::vector<std::string>& known_pipelines);

}  // namespace sluice::scheduler
