#include "scheduler/triggers/upstream/upstream_trigger.hpp"

#include <fmt/format.h>

#include "common/strings.hpp"
#include "scheduler/triggers/parse_util.hpp"

namespace sluice::scheduler::triggers {

std::string UpstreamConfig::Describe() const { return fmt::format("{} of {}", kind, Join(pipelines, ", ")); }

namespace {

TriggerDescriptor UpstreamDescriptor(std::string kind, std::string_view outcome) {
  TriggerDescriptor d;
  d.kind = kind;
  d.summary = fmt::format("run after a run of another pipeline {}", outcome);
  d.value_form = "a pipeline name or a list of pipeline names";
  d.parse = [kind](const config::Value& item,
                   const TriggerParseContext& context) -> Result<std::shared_ptr<const TriggerConfig>> {
    const config::Value& value = *item.Find(kind);
    auto names = value.AsStringList();
    if (!names.ok() || names->empty()) {
      return InvalidAt(value, "must name a pipeline of this project, e.g. on_success: load_orders, or a list of them");
    }
    for (const auto& name : *names) {
      if (name == context.pipeline) {
        return InvalidAt(value,
                         fmt::format("pipeline '{}' cannot trigger itself with {} (it would run forever)", name, kind));
      }
    }
    return std::shared_ptr<const TriggerConfig>(std::make_shared<UpstreamConfig>(kind, *names));
  };
  return d;
}

}  // namespace

TriggerDescriptor OnSuccessTriggerDescriptor() { return UpstreamDescriptor("on_success", "succeeds"); }
TriggerDescriptor OnFailureTriggerDescriptor() { return UpstreamDescriptor("on_failure", "fails"); }

std::vector<std::string> UpstreamPipelines(const std::vector<TriggerSpec>& specs, std::string_view kind) {
  std::vector<std::string> out;
  for (const auto& spec : specs) {
    const auto* upstream = spec.As<UpstreamConfig>();
    if (upstream == nullptr || upstream->kind != kind) continue;
    out.insert(out.end(), upstream->pipelines.begin(), upstream->pipelines.end());
  }
  return out;
}

}  // namespace sluice::scheduler::triggers
