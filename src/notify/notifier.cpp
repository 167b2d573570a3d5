#include "notify/notifier.hpp"

#include <algorithm>

namespace sluice::notify {

const char* RunEventKey(RunEvent event) {
  switch (event) {
    case RunEvent::kSuccess: return "on_success";
    case RunEvent::kFailure: return "on_failure";
    case RunEvent::kRetriesExhausted: return "on_retries_exhausted";
  }
  return "on_failure";
}

void NotifierRegistry::Add(NotifierDescriptor descriptor) { descriptors_.push_back(std::move(descriptor)); }

const NotifierDescriptor* NotifierRegistry::Find(std::string_view type) const {
  for (const auto& d : descriptors_) {
    if (d.type == type) return &d;
  }
  return nullptr;
}

std::vector<std::string> NotifierRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& d : descriptors_) names.push_back(d.type);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace sluice::notify
