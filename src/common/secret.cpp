#include "common/secret.hpp"

#include <algorithm>
#include <mutex>

namespace sluice {

void Redactor::Add(std::string value) {
  if (value.size() < 4) return;
  std::unique_lock lock(mutex_);
  if (std::find(values_.begin(), values_.end(), value) != values_.end()) return;
  values_.push_back(std::move(value));
  std::sort(values_.begin(), values_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string Redactor::Apply(std::string_view text) const {
  std::string out(text);
  std::shared_lock lock(mutex_);
  for (const auto& value : values_) {
    for (size_t pos = out.find(value); pos != std::string::npos;
         pos = out.find(value, pos + kMask.size())) {
      out.replace(pos, value.size(), kMask);
    }
  }
  return out;
}

}  // namespace sluice
