#pragma once

#include <fmt/format.h>

#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

/// A credential. Formats as "***" so it cannot leak through logs or messages by accident;
/// the value is reachable only through an explicit Reveal().
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  const std::string& Reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  bool operator==(const Secret& other) const = default;

 private:
  std::string value_;
};

/// Knows every secret value resolved in this process and masks them in any text: the last
/// line of defence for logs, error messages and run records.
class Redactor {
 public:
  static constexpr std::string_view kMask = "***";

  /// Masks `value` from now on, whatever its length (a 3-character password is a password too); only
  /// values that are secrets are added (secret keys, URL passwords), so ordinary numbers stay readable.
  /// An empty value is ignored.
  void Add(std::string value);
  std::string Apply(std::string_view text) const;

 private:
  mutable std::shared_mutex mutex_;
  std::vector<std::string> values_;  // longest first, so a secret containing another is masked whole
};

}  // namespace sluice

template <>
struct fmt::formatter<sluice::Secret> : fmt::formatter<std::string_view> {
  auto format(const sluice::Secret&, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(sluice::Redactor::kMask, ctx);
  }
};
