#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "config/value.hpp"
#include "notify/notifier.hpp"

namespace sluice::notify {

/// Checks `notifications:` of sluice.yaml: each entry has a known type: and valid options.
void ValidateNotifications(const NotifierRegistry& registry, const config::Value& notifications,
                           std::vector<std::string>* errors);

/// Checks a pipeline's `notify:` map: keys on_success / on_failure / on_retries_exhausted, each a
/// list of names defined under notifications:.
void ValidatePipelineNotify(const config::Value& notify, const config::Value& notifications,
                            const std::string& pipeline, std::vector<std::string>* errors);

/// The notification names a pipeline's `notify:` lists for these events (each name once, in order).
std::vector<std::string> Recipients(const config::Value& notify, const std::vector<RunEvent>& events);

/// Sends `notice` to each named notification. Every destination is tried; the errors of those
/// that failed come back together (the run's outcome does not depend on them). `unresolved` is
/// config::ProjectConfig::unresolved: a notification listed there ("notifications.NAME") fails
/// with its problems instead of being sent.
Status SendNotice(const NotifierRegistry& registry, const config::Value& notifications,
                  const std::vector<std::string>& names, const RunNotice& notice,
                  const std::map<std::string, std::string>& unresolved = {});

}  // namespace sluice::notify
