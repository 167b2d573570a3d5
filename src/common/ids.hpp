#pragma once

#include <fmt/format.h>

#include <string>

#include "common/clock.hpp"

namespace sluice {

/// Identifies one run of a pipeline. Sorts by start time: "20261123T105600Z-3f9a1c".
struct RunId {
  std::string value;
  bool operator==(const RunId&) const = default;
  auto operator<=>(const RunId&) const = default;
};

RunId NewRunId(const Clock& clock);

/// Random lowercase hex of `bytes` random bytes (file names, upload ids).
std::string RandomHex(size_t bytes);

}  // namespace sluice

template <>
struct fmt::formatter<sluice::RunId> : fmt::formatter<std::string> {
  auto format(const sluice::RunId& id, fmt::format_context& ctx) const {
    return fmt::formatter<std::string>::format(id.value, ctx);
  }
};
