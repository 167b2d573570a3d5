#include <gtest/gtest.h>

#include "scheduler/triggers/cron.hpp"
#include "scheduler/triggers/schedule/schedule_trigger.hpp"
#include "scheduler/triggers/time_zone.hpp"
#include "trigger_test_util.hpp"

namespace sluice::scheduler::triggers {
namespace {

using testing::Utc;

std::shared_ptr<const TimeZone> Zone(const std::string& name) {
  auto zone = TimeZone::Load(name);
  EXPECT_TRUE(zone.ok()) << zone.status();
  return zone.ok() ? *zone : TimeZone::Utc();
}

CronSchedule Cron(const std::string& text) {
  auto cron = CronSchedule::Parse(text);
  EXPECT_TRUE(cron.ok()) << text << ": " << cron.status();
  return cron.ok() ? *cron : *CronSchedule::Parse("* * * * *");
}

/// The next `n` fire times after `from`, formatted in UTC.
std::vector<std::string> Fires(const std::string& cron_text, const std::string& zone_name, TimePoint from, int n) {
  CronSchedule cron = Cron(cron_text);
  auto zone = Zone(zone_name);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    auto next = cron.NextFireAfter(from, *zone);
    if (!next) break;
    out.push_back(FormatInstant(*next));
    from = *next;
  }
  return out;
}

// ---- time zones -----------------------------------------------------------------------------

TEST(TimeZoneTest, BerlinOffsetsFollowDaylightSavingInTableAndFooter) {
  auto berlin = Zone("Europe/Berlin");
  EXPECT_EQ(berlin->OffsetAt(Utc(2026, 1, 15, 12, 0)), 3600);
  EXPECT_EQ(berlin->OffsetAt(Utc(2026, 7, 15, 12, 0)), 7200);
  // 2026-03-29 01:00 UTC is the switch to summer time.
  EXPECT_EQ(berlin->OffsetAt(Utc(2026, 3, 29, 0, 59, 59)), 3600);
  EXPECT_EQ(berlin->OffsetAt(Utc(2026, 3, 29, 1, 0)), 7200);
  // Far past the table's last transition (2037): the POSIX footer rule decides.
  EXPECT_EQ(berlin->OffsetAt(Utc(2100, 7, 1, 0, 0)), 7200);
  EXPECT_EQ(berlin->OffsetAt(Utc(2100, 12, 1, 0, 0)), 3600);
  EXPECT_EQ(berlin->OffsetAt(Utc(2100, 3, 28, 0, 59, 59)), 3600);  // last Sunday of March 2100 is the 28th
  EXPECT_EQ(berlin->OffsetAt(Utc(2100, 3, 28, 1, 0)), 7200);
}

TEST(TimeZoneTest, FromLocalReportsGapsAndRepeats) {
  auto berlin = Zone("Europe/Berlin");
  auto unique = berlin->FromLocal({2026, 6, 1, 12, 0, 0});
  EXPECT_EQ(unique.kind, LocalTimeKind::kUnique);
  EXPECT_EQ(FormatInstant(unique.instant), "2026-06-01T10:00:00Z");

  auto skipped = berlin->FromLocal({2026, 3, 29, 2, 30, 0});
  EXPECT_EQ(skipped.kind, LocalTimeKind::kSkipped);
  EXPECT_EQ(FormatInstant(skipped.instant), "2026-03-29T01:00:00Z");  // 03:00 CEST, the end of the gap

  auto repeated = berlin->FromLocal({2026, 10, 25, 2, 30, 0});
  EXPECT_EQ(repeated.kind, LocalTimeKind::kRepeated);
  EXPECT_EQ(FormatInstant(repeated.instant), "2026-10-25T00:30:00Z");  // the first (CEST) occurrence

  auto ny = Zone("America/New_York");
  EXPECT_EQ(ny->ToLocal(Utc(2026, 11, 23, 1, 0)).ToString(), "2026-11-22 20:00:00");
}

TEST(TimeZoneTest, PosixRuleAloneCoversSouthernHemisphere) {
  auto sydney = TimeZone::FromPosixRule("test/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3");
  ASSERT_TRUE(sydney.ok()) << sydney.status();
  EXPECT_EQ((*sydney)->OffsetAt(Utc(2030, 1, 10, 0, 0)), 11 * 3600);  // summer in January
  EXPECT_EQ((*sydney)->OffsetAt(Utc(2030, 7, 10, 0, 0)), 10 * 3600);
  auto fixed = TimeZone::FromPosixRule("test/Tehran", "<+0330>-3:30");
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_EQ((*fixed)->OffsetAt(Utc(2030, 1, 1, 0, 0)), 3 * 3600 + 1800);
  auto bad = TimeZone::FromPosixRule("bad", "CET-1CEST,M3.5");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("POSIX TZ rule 'CET-1CEST,M3.5'"), std::string::npos) << bad.status();
}

TEST(TimeZoneTest, UnknownZoneSaysWhereItLookedAndSuggests) {
  auto zone = TimeZone::Load("Europe/Berln");
  ASSERT_FALSE(zone.ok());
  const std::string& m = zone.status().message();
  EXPECT_NE(m.find("unknown time zone 'Europe/Berln'"), std::string::npos) << m;
  EXPECT_NE(m.find("/usr/share/zoneinfo"), std::string::npos) << m;
  EXPECT_NE(m.find("did you mean 'Europe/Berlin'"), std::string::npos) << m;
  EXPECT_FALSE(TimeZone::Load("../etc/passwd").ok());
  EXPECT_TRUE(TimeZone::Load("Etc/UTC").ok());
  auto truncated = TimeZone::FromTzif("x", "TZif2");
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.status().message().find("not a valid TZif file"), std::string::npos);
}

// ---- cron parsing ---------------------------------------------------------------------------

TEST(CronTest, ParsesFieldsListsRangesStepsAndNames) {
  CronSchedule cron = Cron("*/15 9-17 * JAN,jul MON-FRI");
  EXPECT_TRUE(cron.Matches({2026, 1, 5, 9, 45, 0}));   // Monday
  EXPECT_FALSE(cron.Matches({2026, 1, 5, 9, 50, 0}));  // not a quarter
  EXPECT_FALSE(cron.Matches({2026, 1, 4, 9, 45, 0}));  // Sunday
  EXPECT_FALSE(cron.Matches({2026, 2, 2, 9, 45, 0}));  // February
  EXPECT_TRUE(cron.Matches({2026, 7, 1, 17, 0, 0}));
  EXPECT_FALSE(cron.Matches({2026, 7, 1, 18, 0, 0}));

  CronSchedule stepped = Cron("1-10/3 * * * *");
  for (int m : {1, 4, 7, 10}) EXPECT_TRUE(stepped.Matches({2026, 1, 1, 0, m, 0})) << m;
  for (int m : {0, 2, 11, 13}) EXPECT_FALSE(stepped.Matches({2026, 1, 1, 0, m, 0})) << m;
  CronSchedule from = Cron("5/20 * * * *");
  for (int m : {5, 25, 45}) EXPECT_TRUE(from.Matches({2026, 1, 1, 0, m, 0})) << m;
  EXPECT_FALSE(from.Matches({2026, 1, 1, 0, 0, 0}));
}

TEST(CronTest, SevenAndZeroAreSunday) {
  for (const char* text : {"0 0 * * 7", "0 0 * * 0", "0 0 * * SUN", "0 0 * * 5-7"}) {
    CronSchedule cron = Cron(text);
    EXPECT_TRUE(cron.Matches({2026, 11, 22, 0, 0, 0})) << text;  // a Sunday
  }
  EXPECT_FALSE(Cron("0 0 * * 7").Matches({2026, 11, 23, 0, 0, 0}));  // Monday
}

TEST(CronTest, SixFieldsHaveSecondsFirst) {
  CronSchedule cron = Cron("*/10 0 12 * * *");
  EXPECT_TRUE(cron.has_seconds());
  EXPECT_EQ(Fires("*/10 0 12 * * *", "UTC", Utc(2026, 11, 23, 11, 59, 59), 3),
            (std::vector<std::string>{"2026-11-23T12:00:00Z", "2026-11-23T12:00:10Z", "2026-11-23T12:00:20Z"}));
  EXPECT_FALSE(Cron("0 * * * *").has_seconds());
}

TEST(CronTest, DayOfMonthAndDayOfWeekBothRestrictedMeansEither) {
  // The 13th of each month, and every Friday.
  auto fires = Fires("0 0 13 * FRI", "UTC", Utc(2026, 11, 1, 0, 0), 4);
  EXPECT_EQ(fires, (std::vector<std::string>{"2026-11-06T00:00:00Z", "2026-11-13T00:00:00Z", "2026-11-20T00:00:00Z",
                                             "2026-11-27T00:00:00Z"}));
  auto fires_dec = Fires("0 0 13 * FRI", "UTC", Utc(2026, 12, 10, 0, 0), 2);
  EXPECT_EQ(fires_dec, (std::vector<std::string>{"2026-12-11T00:00:00Z", "2026-12-13T00:00:00Z"}));
  // With one of them '*' (or '*/n'), both must match: only Fridays.
  EXPECT_EQ(Fires("0 0 * * FRI", "UTC", Utc(2026, 12, 10, 0, 0), 2),
            (std::vector<std::string>{"2026-12-11T00:00:00Z", "2026-12-18T00:00:00Z"}));
  EXPECT_EQ(Fires("0 0 */10 * FRI", "UTC", Utc(2026, 12, 1, 0, 0), 1),
            (std::vector<std::string>{"2026-12-11T00:00:00Z"}));  // the 11th is day 1+10 and a Friday
}

TEST(CronTest, ShorthandsAndNeverFiring) {
  EXPECT_EQ(Fires("@daily", "UTC", Utc(2026, 11, 23, 10, 0), 1), (std::vector<std::string>{"2026-11-24T00:00:00Z"}));
  EXPECT_EQ(Fires("@hourly", "UTC", Utc(2026, 11, 23, 10, 0), 1), (std::vector<std::string>{"2026-11-23T11:00:00Z"}));
  EXPECT_EQ(Fires("0 0 29 2 *", "UTC", Utc(2026, 3, 1, 0, 0), 1), (std::vector<std::string>{"2028-02-29T00:00:00Z"}));
  EXPECT_TRUE(Fires("0 0 30 2 *", "UTC", Utc(2026, 3, 1, 0, 0), 1).empty());
}

TEST(CronTest, ErrorsNameFieldValueAndRange) {
  struct Case {
    const char* text;
    const char* expect;
  };
  for (const Case& c : std::vector<Case>{
           {"* * * *", "has 4 fields; expected 5"},
           {"60 * * * *", "minute field '60' has 60, outside the range (allowed: 0-59"},
           {"* 24 * * *", "hour field '24' has 24, outside the range"},
           {"* * 0 * *", "day of month field '0'"},
           {"* * * 13 *", "month field '13'"},
           {"* * * JNA *", "did you mean 'JAN'?"},
           {"* * * * MON-XYZ", "unknown name 'XYZ'"},
           {"*/0 * * * *", "minute field '*/0'"},
           {"5-1 * * * *", "range 5-1 backwards"},
           {"* * * * 1#2", "L, W or #, which are not supported"},
           {"* * L * *", "not supported"},
           {"@often", "unknown shorthand"},
           {"? * * * *", "only the day fields accept"},
           {"a * * * *", "'a', which is not a number"},
       }) {
    auto parsed = CronSchedule::Parse(c.text);
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_NE(parsed.status().message().find(c.expect), std::string::npos)
        << c.text << " -> " << parsed.status().message();
  }
}

// ---- next fire time across daylight saving --------------------------------------------------

TEST(CronDstTest, BerlinSpringForwardFiresOnceAtEndOfGap) {
  // 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00 UTC). 02:30 does not exist that day.
  EXPECT_EQ(Fires("30 2 * * *", "Europe/Berlin", Utc(2026, 3, 27, 12, 0), 3),
            (std::vector<std::string>{"2026-03-28T01:30:00Z",     // 02:30 CET
                                      "2026-03-29T01:00:00Z",     // no 02:30: 03:00 CEST, end of the gap
                                      "2026-03-30T00:30:00Z"}));  // 02:30 CEST
  // Every 15 minutes: the four skipped quarter hours collapse into one fire at 03:00 CEST.
  EXPECT_EQ(Fires("*/15 * * * *", "Europe/Berlin", Utc(2026, 3, 29, 0, 30), 4),
            (std::vector<std::string>{"2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z",
                                      "2026-03-29T01:30:00Z"}));
}

TEST(CronDstTest, BerlinFallBackFiresRepeatedTimeOnce) {
  // 2026-10-25: 03:00 CEST goes back to 02:00 CET (01:00 UTC). 02:30 happens twice.
  EXPECT_EQ(Fires("30 2 * * *", "Europe/Berlin", Utc(2026, 10, 24, 12, 0), 2),
            (std::vector<std::string>{"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}));
  // Polling from inside the second pass of the repeated hour does not fire 02:30 again.
  EXPECT_EQ(Fires("30 2 * * *", "Europe/Berlin", Utc(2026, 10, 25, 1, 10), 1),
            (std::vector<std::string>{"2026-10-26T01:30:00Z"}));
  // Hourly: local 02:00 once (at its first occurrence), then 03:00 CET.
  EXPECT_EQ(Fires("0 * * * *", "Europe/Berlin", Utc(2026, 10, 24, 23, 30), 3),
            (std::vector<std::string>{"2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z"}));
}

TEST(CronDstTest, NewYorkTransitions) {
  // 2026-03-08 02:00 EST -> 03:00 EDT (07:00 UTC); 2026-11-01 02:00 EDT -> 01:00 EST (06:00 UTC).
  EXPECT_EQ(Fires("30 2 * * *", "America/New_York", Utc(2026, 3, 7, 12, 0), 2),
            (std::vector<std::string>{"2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"}));
  EXPECT_EQ(Fires("30 1 * * *", "America/New_York", Utc(2026, 10, 31, 12, 0), 2),
            (std::vector<std::string>{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}));
  EXPECT_EQ(Fires("0 9 * * MON-FRI", "America/New_York", Utc(2026, 11, 20, 15, 0), 2),
            (std::vector<std::string>{"2026-11-23T14:00:00Z", "2026-11-24T14:00:00Z"}));
}

}  // namespace
}  // namespace sluice::scheduler::triggers
