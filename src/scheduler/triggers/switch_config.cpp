#include "scheduler/triggers/switch_config.hpp"

#include "scheduler/triggers/parse_util.hpp"

namespace sluice::scheduler::triggers {

TriggerDescriptor SwitchTriggerDescriptor(std::string kind, std::string summary) {
  TriggerDescriptor d;
  d.kind = kind;
  d.summary = std::move(summary);
  d.value_form = "true or false";
  d.parse = [kind](const config::Value& item,
                   const TriggerParseContext&) -> Result<std::shared_ptr<const TriggerConfig>> {
    const config::Value& value = *item.Find(kind);
    auto enabled = value.AsBool();
    if (!enabled.ok()) return InvalidAt(value, "must be true or false");
    return std::shared_ptr<const TriggerConfig>(std::make_shared<SwitchConfig>(kind, *enabled));
  };
  return d;
}

bool IsEnabled(const std::vector<TriggerSpec>& specs, std::string_view kind) {
  for (const auto& spec : specs) {
    const auto* s = spec.As<SwitchConfig>();
    if (s != nullptr && s->kind == kind && s->enabled) return true;
  }
  return false;
}

}  // namespace sluice::scheduler::triggers
