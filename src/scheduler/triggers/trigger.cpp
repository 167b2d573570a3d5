#include "scheduler/triggers/trigger.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "common/strings.hpp"
#include "scheduler/triggers/parse_util.hpp"
#include "scheduler/triggers/upstream/upstream_trigger.hpp"

namespace sluice::scheduler::triggers {

Status InvalidAt(const config::Value& at, std::string_view message) {
  std::string where = at.location().ToString();
  return Status::Invalid("{}{}{}", where.empty() ? "" : where + ": ", at.path().empty() ? "" : at.path() + ": ",
                         message);
}

Result<std::shared_ptr<const TimeZone>> ParseTimeZoneKey(const config::Value& map) {
  const config::Value* zone = map.Find("timezone");
  if (zone == nullptr || zone->IsNull()) return TimeZone::Utc();
  SLUICE_ASSIGN_OR_RETURN(std::string name, zone->AsString());
  auto loaded = TimeZone::Load(name);
  if (!loaded.ok()) return InvalidAt(*zone, loaded.status().message());
  return *loaded;
}

const TriggerRegistry& BuiltinTriggers() {
  static const TriggerRegistry kRegistry = [] {
    TriggerRegistry registry;
    RegisterBuiltinTriggers(registry);
    return registry;
  }();
  return kRegistry;
}

namespace {

/// The kind keys present in `item`, in file order.
std::vector<std::string> KindKeys(const TriggerRegistry& registry, const config::Value& item) {
  std::vector<std::string> kinds;
  for (const auto& [key, value] : item.entries()) {
    if (registry.Find(key) != nullptr) kinds.push_back(key);
  }
  return kinds;
}

void ParseItem(const TriggerRegistry& registry, const config::Value& item, const std::string& pipeline,
               std::map<std::string, int>* per_kind, std::vector<TriggerSpec>* specs,
               std::vector<std::string>* errors) {
  const std::string kinds_text = Join(registry.Names(), ", ");
  if (!item.IsMap() || item.entries().empty()) {
    errors->push_back(InvalidAt(item, fmt::format("a trigger must be a map whose key names its kind ({}), e.g. "
                                                  "- schedule: \"0 6 * * *\"",
                                                  kinds_text))
                          .message());
    return;
  }
  std::vector<std::string> kinds = KindKeys(registry, item);
  if (kinds.empty()) {
    const std::string& first = item.entries().front().first;
    std::string nearest = NearestWord(first, registry.Names());
    std::string where = item.KeyLocation(first).ToString();
    errors->push_back(fmt::format("{}unknown trigger kind '{}' in triggers of pipeline '{}'{}",
                                  where.empty() ? "" : where + ": ", first, pipeline,
                                  nearest.empty() ? fmt::format(" (expected one of: {})", kinds_text)
                                                  : fmt::format(" (did you mean '{}'?)", nearest)));
    return;
  }
  if (kinds.size() > 1) {
    errors->push_back(InvalidAt(item, fmt::format("one trigger per item, but this one has {}: start each with its own "
                                                  "'- '",
                                                  Join(kinds, " and ")))
                          .message());
    return;
  }
  const TriggerDescriptor& descriptor = *registry.Find(kinds.front());
  const std::string context = fmt::format("{} trigger of pipeline '{}'", descriptor.kind, pipeline);
  size_t before = errors->size();
  if (descriptor.options_inside) {
    config::ValidateOptions(item, {{descriptor.kind, config::OptionType::kMap, "", true, false, descriptor.value_form}},
                            context, errors);
    if (const config::Value* inner = item.Find(descriptor.kind); inner != nullptr && inner->IsMap()) {
      config::ValidateOptions(*inner, descriptor.options, context, errors);
    }
  } else {
    std::vector<config::OptionSpec> specs = descriptor.options;
    specs.insert(specs.begin(), {descriptor.kind, config::OptionType::kAny, "", true, false, descriptor.value_form});
    config::ValidateOptions(item, specs, context, errors);
  }
  if (errors->size() != before) return;

  TriggerSpec spec;
  spec.kind = descriptor.kind;
  spec.key = fmt::format("{}#{}", descriptor.kind, (*per_kind)[descriptor.kind]++);
  spec.location = item.KeyLocation(descriptor.kind);
  auto config = descriptor.parse(item, TriggerParseContext{pipeline, spec.key});
  if (!config.ok()) {
    errors->push_back(config.status().message());
    return;
  }
  spec.config = std::move(config).value();
  specs->push_back(std::move(spec));
}

}  // namespace

Result<std::vector<TriggerSpec>> ParseTriggers(const TriggerRegistry& registry, const config::Value& triggers,
                                               const std::string& pipeline) {
  std::vector<TriggerSpec> specs;
  if (triggers.IsNull()) return specs;
  if (!triggers.IsList()) {
    return InvalidAt(triggers,
                     fmt::format("triggers of pipeline '{}' must be a list (items starting with '- ')", pipeline));
  }
  std::vector<std::string> errors;
  std::map<std::string, int> per_kind;
  for (const auto& item : triggers.items()) ParseItem(registry, item, pipeline, &per_kind, &specs, &errors);
  SLUICE_TRY(config::ErrorsToStatus(errors));
  return specs;
}

Result<std::vector<TriggerSpec>> ParseTriggers(const config::Value& triggers, const std::string& pipeline) {
  return ParseTriggers(BuiltinTriggers(), triggers, pipeline);
}

Status CheckTriggerReferences(const std::vector<TriggerSpec>& specs, const std::string& pipeline,
                              const std::vector<std::string>& project_pipelines) {
  std::vector<std::string> errors;
  for (const auto& spec : specs) {
    const auto* upstream = spec.As<UpstreamConfig>();
    if (upstream == nullptr) continue;
    for (const auto& name : upstream->pipelines) {
      if (std::find(project_pipelines.begin(), project_pipelines.end(), name) != project_pipelines.end()) continue;
      std::string nearest = NearestWord(name, project_pipelines);
      std::string where = spec.location.ToString();
      errors.push_back(
          fmt::format("{}{} trigger of pipeline '{}' names pipeline '{}', which the project does not have{}",
                      where.empty() ? "" : where + ": ", spec.kind, pipeline, name,
                      nearest.empty() ? fmt::format(" (pipelines: {})", Join(project_pipelines, ", "))
                                      : fmt::format(" (did you mean '{}'?)", nearest)));
    }
  }
  return config::ErrorsToStatus(errors);
}

bool IsPolled(const TriggerRegistry& registry, const TriggerSpec& spec) {
  const TriggerDescriptor* descriptor = registry.Find(spec.kind);
  return descriptor != nullptr && static_cast<bool>(descriptor->make_polled);
}

Result<std::unique_ptr<PolledTrigger>> MakePolledTrigger(const TriggerRegistry& registry, const TriggerSpec& spec,
                                                         const PolledTriggerContext& context,
                                                         std::optional<std::string> saved_state) {
  const TriggerDescriptor* descriptor = registry.Find(spec.kind);
  if (descriptor == nullptr || !descriptor->make_polled) {
    return Status::Invalid("trigger {} of pipeline '{}' is not polled: the daemon handles {} triggers itself", spec.key,
                           context.pipeline, spec.kind);
  }
  return descriptor->make_polled(spec, context, std::move(saved_state));
}

Result<std::unique_ptr<PolledTrigger>> MakePolledTrigger(const TriggerSpec& spec, const PolledTriggerContext& context,
                                                         std::optional<std::string> saved_state) {
  return MakePolledTrigger(BuiltinTriggers(), spec, context, std::move(saved_state));
}

}  // namespace sluice::scheduler::triggers
