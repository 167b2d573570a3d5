#include "common/ids.hpp"

#include <fmt/chrono.h>

#include <random>

namespace sluice {

std::string RandomHex(size_t bytes) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string out;
  out.reserve(bytes * 2);
  for (size_t i = 0; i < bytes; ++i) {
    out += fmt::format("{:02x}", static_cast<unsigned>(rng() & 0xff));
  }
  return out;
}

RunId NewRunId(const Clock& clock) {
  auto now = std::chrono::floor<std::chrono::seconds>(clock.Now());
  return RunId{fmt::format("{:%Y%m%dT%H%M%SZ}-{}", now, RandomHex(3))};
}

}  // namespace sluice
