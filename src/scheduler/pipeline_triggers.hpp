#pragma once

#include <string>
#include <vector>

#include "common/secret.hpp"
#include "common/status.hpp"
#include "config/pipeline.hpp"
#include "scheduler/triggers/trigger.hpp"

namespace sluice::scheduler {

/// One pipeline's `triggers:` as the daemon uses them.
struct PipelineTriggers {
  std::vector<triggers::TriggerSpec> specs;  // all of them; the polled ones (schedule, file_arrival) among them
  std::vector<std::string> after_success;    // pipelines whose success starts this one
  std::vector<std::string> after_failure;    // pipelines whose failure starts this one
  /// `webhook: true` or `on_demand: true`, or no triggers at all: POST …/trigger may start it.
  bool accepts_api = false;
  /// `webhook: { token: … }`: tokens that may start this pipeline (and do nothing else) over the API.
  std::vector<Secret> webhook_tokens;
};

/// Parses `pipeline.triggers` and checks that on_success/on_failure name pipelines of `known_pipelines`
/// (not the pipeline itself). Errors name the file, line and key.
Result<PipelineTriggers> ReadPipelineTriggers(const config::PipelineConfig& pipeline,
                                              const std::vector<std::string>& known_pipelines);

}  // namespace sluice::scheduler
