#include "notify/dispatch.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/strings.hpp"
#include "config/options.hpp"

namespace sluice::notify {
namespace {

std::vector<config::OptionSpec> EntryKeys(const NotifierDescriptor& descriptor) {
  auto keys = descriptor.options;
  keys.push_back({"type", config::OptionType::kString, "", true, false, "email | webhook"});
  return keys;
}

const std::vector<config::OptionSpec>& NotifyKeys() {
  static const std::vector<config::OptionSpec> kKeys = {
      {"on_success", config::OptionType::kStringList, "", false, false, "notifications told when a run succeeds"},
      {"on_failure", config::OptionType::kStringList, "", false, false, "notifications told when a run fails"},
      {"on_retries_exhausted", config::OptionType::kStringList, "", false, false,
       "notifications told when a job failed after using up its retries"},
  };
  return kKeys;
}

Result<std::unique_ptr<Notifier>> Create(const NotifierRegistry& registry, const std::string& name,
                                         const config::Value& entry) {
  SLUICE_ASSIGN_OR_RETURN(auto type, entry.GetString("type", ""));
  const auto* descriptor = registry.Find(type);
  if (descriptor == nullptr) {
    std::string hint = NearestWord(type, registry.Names());
    return Status::Invalid("{}: notification '{}' has type '{}'{}; known types: {}", entry.location().ToString(), name,
                           type, hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint),
                           Join(registry.Names(), ", "));
  }
  std::vector<std::string> errors;
  config::ValidateOptions(entry, EntryKeys(*descriptor), fmt::format("notification '{}'", name), &errors);
  SLUICE_TRY(config::ErrorsToStatus(errors));
  return descriptor->create(name, entry);
}

}  // namespace

void ValidateNotifications(const NotifierRegistry& registry, const config::Value& notifications,
                           std::vector<std::string>* errors) {
  if (notifications.IsNull()) return;
  if (!notifications.IsMap()) {
    errors->push_back(fmt::format("{}: notifications: must be a map of name -> {{type: email|webhook, …}}",
                                  notifications.location().ToString()));
    return;
  }
  for (const auto& [name, entry] : notifications.entries()) {
    if (!entry.IsMap()) {
      errors->push_back(
          fmt::format("{}: notification '{}' must be a map with type:", entry.location().ToString(), name));
      continue;
    }
    auto created = Create(registry, name, entry);
    if (!created.ok()) errors->push_back(created.status().message());
  }
}

void ValidatePipelineNotify(const config::Value& notify, const config::Value& notifications,
                            const std::string& pipeline, std::vector<std::string>* errors) {
  if (notify.IsNull()) return;
  config::ValidateOptions(notify, NotifyKeys(), fmt::format("notify: of pipeline '{}'", pipeline), errors);
  if (!notify.IsMap()) return;
  std::vector<std::string> defined = notifications.IsMap() ? notifications.Keys() : std::vector<std::string>{};
  for (const auto& [key, list] : notify.entries()) {
    auto names = list.AsStringList();
    if (!names.ok()) continue;  // reported by ValidateOptions
    for (const auto& name : *names) {
      if (std::find(defined.begin(), defined.end(), name) != defined.end()) continue;
      std::string hint = NearestWord(name, defined);
      errors->push_back(
          fmt::format("{}: notify.{} of pipeline '{}' names '{}', which is not defined under "
                      "notifications: in sluice.yaml{}",
                      list.location().ToString(), key, pipeline, name,
                      hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
  }
}

std::vector<std::string> Recipients(const config::Value& notify, const std::vector<RunEvent>& events) {
  std::vector<std::string> names;
  if (!notify.IsMap()) return names;
  for (RunEvent event : events) {
    const auto* list = notify.Find(RunEventKey(event));
    if (list == nullptr) continue;
    auto listed = list->AsStringList();
    if (!listed.ok()) continue;
    for (auto& n : *listed) {
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    }
  }
  return names;
}

Status SendNotice(const NotifierRegistry& registry, const config::Value& notifications,
                  const std::vector<std::string>& names, const RunNotice& notice,
                  const std::map<std::string, std::string>& unresolved) {
  std::vector<std::string> failures;
  bool retryable = false;
  for (const auto& name : names) {
    const auto* entry = notifications.IsMap() ? notifications.Find(name) : nullptr;
    if (entry == nullptr) {
      failures.push_back(fmt::format("notification '{}' is not defined under notifications: in sluice.yaml", name));
      continue;
    }
    if (auto problem = unresolved.find("notifications." + name); problem != unresolved.end()) {
      failures.push_back(fmt::format("notification '{}': {}", name, problem->second));
      continue;
    }
    auto notifier = Create(registry, name, *entry);
    Status st = notifier.ok() ? (*notifier)->Send(notice) : notifier.status();
    if (!st.ok()) {
      failures.push_back(st.message());
      retryable |= st.retryable();
    }
  }
  if (failures.empty()) return Status::OK();
  return Status(StatusCode::kUnavailable,
                fmt::format("run {} of '{}': {} of {} notifications failed: {}", notice.run_id, notice.pipeline,
                            failures.size(), names.size(), Join(failures, "; ")),
                retryable);
}

}  // namespace sluice::notify
