#include "scheduler/pipeline_triggers.hpp"

#include <algorithm>

#include "scheduler/triggers/switch_config.hpp"
#include "scheduler/triggers/upstream/upstream_trigger.hpp"
#include "scheduler/triggers/webhook/webhook_trigger.hpp"

namespace sluice::scheduler {

Result<PipelineTriggers> ReadPipelineTriggers(const config::PipelineConfig& pipeline,
                                              const std::vector<std::string>& known_pipelines) {
  PipelineTriggers result;
  SLUICE_ASSIGN_OR_RETURN(result.specs, triggers::ParseTriggers(pipeline.triggers, pipeline.name));
  SLUICE_TRY(triggers::CheckTriggerReferences(result.specs, pipeline.name, known_pipelines));
  result.after_success = triggers::UpstreamPipelines(result.specs, "on_success");
  result.after_failure = triggers::UpstreamPipelines(result.specs, "on_failure");
  for (const auto* upstream : {&result.after_success, &result.after_failure}) {
    if (std::find(upstream->begin(), upstream->end(), pipeline.name) != upstream->end()) {
      return Status::Invalid("{}: triggers: pipeline '{}' cannot trigger itself with on_success/on_failure",
                             pipeline.file.string(), pipeline.name);
    }
  }
  result.accepts_api =
      result.specs.empty() || triggers::WebhookEnabled(result.specs) || triggers::IsEnabled(result.specs, "on_demand");
  result.webhook_tokens = triggers::WebhookTokens(result.specs);
  return result;
}

}  // namespace sluice::scheduler
