#include "common/clock.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cctype>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "common/strings.hpp"

namespace sluice {

int64_t ToUnixMicros(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

TimePoint FromUnixMicros(int64_t micros) { return TimePoint(std::chrono::microseconds(micros)); }

std::optional<TimePoint> ParseTimestampUtc(const std::string& text) {
  std::tm tm{};
  std::istringstream in(text);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  if (in.fail()) return std::nullopt;
  int64_t micros = 0;
  if (in.peek() == '.') {
    in.get();
    int digits = 0;
    while (std::isdigit(in.peek())) {
      int d = in.get() - '0';
      if (digits < 6) micros = micros * 10 + d;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 6; ++digits) micros *= 10;
  }
  if (in.get() != 'Z') return std::nullopt;
  in >> std::ws;
  if (!in.eof()) return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm)) + std::chrono::microseconds(micros);
}

namespace {

std::optional<TimePoint> ReadClockFile(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return ParseTimestampUtc(Trim(text.str()));
}

}  // namespace

Result<std::unique_ptr<FileClock>> FileClock::Make(std::filesystem::path file) {
  auto start = ReadClockFile(file);
  if (!start) {
    return Status::Invalid(
        "SLUICE_TEST_CLOCK_FILE {}: cannot read a UTC time like 2026-11-23T10:56:00Z from it; "
        "write one, or unset the variable (it is for tests only)",
        file.string());
  }
  return std::unique_ptr<FileClock>(new FileClock(std::move(file), *start));
}

TimePoint FileClock::Now() const {
  // A test rewriting the file may be caught half-way: the last good time stands until then.
  if (auto now = ReadClockFile(file_)) last_us_ = ToMicros(*now);
  return TimePoint(std::chrono::microseconds(last_us_.load()));
}

Result<std::shared_ptr<const Clock>> ClockFromEnvironment() {
  const char* file = std::getenv("SLUICE_TEST_CLOCK_FILE");
  if (file == nullptr || *file == '\0') return std::shared_ptr<const Clock>(std::make_shared<SystemClock>());
  SLUICE_ASSIGN_OR_RETURN(auto clock, FileClock::Make(file));
  return std::shared_ptr<const Clock>(std::move(clock));
}

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
