#include "scheduler/pipeline_triggers.hpp"

#include <algorithm>

#include "common/strings.hpp"

namespace sluice::scheduler {

Result<PipelineTriggers> ReadPipelineTriggers(const config::PipelineConfig& pipeline,
                                              const std::vector<std::string>& known_pipelines) {
  PipelineTriggers result;
  const config::Value& triggers = pipeline.triggers;
  if (triggers.IsNull()) {
    result.accepts_api = true;
    return result;
  }
  if (!triggers.IsList()) {
    return Status::Invalid("{}: triggers: must be a list, e.g. `triggers: [{{schedule: \"0 2 * * *\"}}]`",
                           triggers.location().ToString());
  }
  for (const auto& entry : triggers.items()) {
    for (const char* chain : {"on_success", "on_failure"}) {
      const config::Value* upstream = entry.Find(chain);
      if (upstream == nullptr) continue;
      SLUICE_ASSIGN_OR_RETURN(auto names, upstream->AsStringList());
      for (const auto& name : names) {
        if (std::find(known_pipelines.begin(), known_pipelines.end(), name) == known_pipelines.end()) {
          std::string hint = NearestWord(name, known_pipelines);
          return Status::Invalid("{}: {}: no pipeline named '{}'{}", upstream->location().ToString(), upstream->path(),
                                 name, hint.empty() ? "" : " (did you mean '" + hint + "'?)");
        }
        if (name == pipeline.name) {
          return Status::Invalid("{}: {}: a pipeline cannot trigger itself", upstream->location().ToString(),
                                 upstream->path());
        }
        (std::string(chain) == "on_success" ? result.after_success : result.after_failure).push_back(name);
      }
    }
    for (const char* flag : {"webhook", "on_demand"}) {
      if (const config::Value* value = entry.Find(flag)) {
        SLUICE_ASSIGN_OR_RETURN(bool on, value->AsBool());
        result.accepts_api |= on;
      }
    }
  }
  return result;
}

}  // namespace sluice::scheduler
