#include "common/secret.hpp"

#include <algorithm>
#include <mutex>

namespace sluice {

void Redactor::Add(std::string value) {
  if (value.empty()) return;
  std::unique_lock lock(mutex_);
  if (std::find(values_.begin(), values_.end(), value) != values_.end()) return;
  values_.push_back(std::move(value));
  std::sort(values_.begin(), values_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string Redactor::Apply(std::string_view text) const {
  std::shared_lock lock(mutex_);
  if (values_.empty()) return std::string(text);
  // One pass over the original text, longest secret first at each position: a mask already written is
  // never searched again, so a short secret cannot match inside "***" or inside a longer secret.
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    bool masked = false;
    for (const auto& value : values_) {
      if (value[0] == text[i] && text.compare(i, value.size(), value) == 0) {
        out += kMask;
        i += value.size();
        masked = true;
        break;
      }
    }
    if (!masked) out += text[i++];
  }
  return out;
}

}  // namespace sluice
