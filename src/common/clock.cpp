#include "common/clock.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace sluice {

int64_t ToUnixMicros(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

TimePoint FromUnixMicros(int64_t micros) { return TimePoint(std::chrono::microseconds(micros)); }

std::string FormatTimestampUtc(TimePoint t) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t - secs).count();
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06d}Z", secs, micros);
}

std::string SqlTimestampLiteral(TimePoint t) {
  std::string text = FormatTimestampUtc(t);
  text[10] = ' ';
  text.pop_back();
  return fmt::format("TIMESTAMP '{}'", text);
}

std::string FormatDateUtc(TimePoint t) {
  return fmt::format("{:%Y-%m-%d}", std::chrono::floor<std::chrono::seconds>(t));
}

}  // namespace sluice
