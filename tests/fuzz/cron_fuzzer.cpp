// Cron expressions and time zone rules come from pipeline files: parsing them and computing fire
// times must answer or refuse, never crash, loop or go back in time, whatever the text.

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "fuzz_input.hpp"
#include "scheduler/triggers/cron.hpp"
#include "scheduler/triggers/time_zone.hpp"

using namespace sluice;
using namespace sluice::scheduler::triggers;

namespace {

std::shared_ptr<const TimeZone> NamedZone(uint8_t pick) {
  static const char* kZones[] = {"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"};
  static std::map<int, std::shared_ptr<const TimeZone>> loaded;
  int index = pick % 5;
  auto& zone = loaded[index];
  if (!zone) {
    auto made = TimeZone::Load(kZones[index]);
    zone = made.ok() ? *made : TimeZone::Utc();
  }
  return zone;
}

}  // namespace

// Input: a choice byte, the cron expression line, a POSIX TZ rule line (used when the choice is
// odd), then four bytes picking the start time.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzInput in(data, size);
  uint8_t choice = in.Byte();
  auto schedule = CronSchedule::Parse(std::string(in.Line()));
  std::string rule(in.Line());
  std::shared_ptr<const TimeZone> zone = NamedZone(choice >> 1);
  if (choice & 1) {
    auto ruled = TimeZone::FromPosixRule("fuzz", rule);
    if (!ruled.ok()) return 0;
    zone = *ruled;
  }
  if (!schedule.ok()) return 0;
  int64_t start_seconds = 0;
  for (int i = 0; i < 4; ++i) start_seconds = (start_seconds << 8) | in.Byte();
  TimePoint t = TimePoint{} + std::chrono::seconds(start_seconds % (130LL * 366 * 86400));
  for (int i = 0; i < 5; ++i) {
    auto next = schedule->NextFireAfter(t, *zone);
    if (!next) break;
    if (*next <= t) __builtin_trap();  // fire times must move forward
    t = *next;
  }
  return 0;
}
