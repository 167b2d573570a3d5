#include <gtest/gtest.h>

#include "common/clock.hpp"
#include "scheduler/triggers/schedule/schedule_trigger.hpp"
#include "trigger_test_util.hpp"

namespace sluice::scheduler::triggers {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

using testing::Utc;

TriggerSpec ScheduleSpec(const std::string& cron, const std::string& zone, CatchUp catch_up) {
  auto parsed = CronSchedule::Parse(cron);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  auto tz = TimeZone::Load(zone);
  EXPECT_TRUE(tz.ok()) << tz.status();
  TriggerSpec spec;
  spec.kind = "schedule";
  spec.key = "schedule#0";
  spec.config = std::make_shared<ScheduleConfig>(*parsed, *tz, catch_up);
  return spec;
}

std::unique_ptr<PolledTrigger> Make(const TriggerSpec& spec, std::optional<std::string> state) {
  return testing::MakeTrigger(spec, "orders", {}, std::move(state));
}

TriggerPoll Poll(PolledTrigger& trigger, const Clock& clock) { return testing::PollAt(trigger, clock); }

TEST(ScheduleTriggerTest, FirstStartFiresNothingForThePastThenFiresEachTimeOnce) {
  ManualClock clock(Utc(2026, 11, 23, 10, 7));
  auto spec = ScheduleSpec("*/15 * * * *", "Europe/Berlin", CatchUp::kSkip);
  auto trigger = Make(spec, std::nullopt);
  TriggerPoll first = Poll(*trigger, clock);
  EXPECT_TRUE(first.events.empty());
  EXPECT_TRUE(first.state_changed);
  EXPECT_EQ(*trigger->NextWake(clock.Now()), Utc(2026, 11, 23, 10, 15));

  clock.Set(Utc(2026, 11, 23, 10, 14, 59));
  EXPECT_TRUE(Poll(*trigger, clock).events.empty());

  clock.Set(Utc(2026, 11, 23, 10, 15, 2));  // the daemon woke two seconds late
  TriggerPoll due = Poll(*trigger, clock);
  ASSERT_EQ(due.events.size(), 1u);
  EXPECT_EQ(due.events[0].pipeline, "orders");
  EXPECT_EQ(due.events[0].kind, "schedule");
  EXPECT_EQ(due.events[0].dedup_key, "schedule:2026-11-23T10:15:00Z");
  EXPECT_NE(due.events[0].detail.find("2026-11-23 11:15:00 Europe/Berlin"), std::string::npos) << due.events[0].detail;
  // Polling again at the same time: nothing twice.
  EXPECT_TRUE(Poll(*trigger, clock).events.empty());
  EXPECT_EQ(*trigger->NextWake(clock.Now()), Utc(2026, 11, 23, 10, 30));
}

TEST(ScheduleTriggerTest, SkipDropsFiresMissedDuringDowntimeAcrossRestart) {
  ManualClock clock(Utc(2026, 11, 23, 0, 30));
  auto spec = ScheduleSpec("0 1 * * *", "UTC", CatchUp::kSkip);
  auto trigger = Make(spec, std::nullopt);
  std::string saved = Poll(*trigger, clock).state;
  clock.Set(Utc(2026, 11, 23, 1, 0, 1));
  TriggerPoll fired = Poll(*trigger, clock);
  ASSERT_EQ(fired.events.size(), 1u);
  saved = fired.state;
  trigger.reset();  // the daemon stops

  // It comes back three days later at 05:00: the fires of the 24th, 25th and 26th were missed.
  clock.Set(Utc(2026, 11, 26, 5, 0));
  auto restarted = Make(spec, saved);
  TriggerPoll after = Poll(*restarted, clock);
  EXPECT_TRUE(after.events.empty());
  EXPECT_TRUE(after.state_changed);
  EXPECT_EQ(*restarted->NextWake(clock.Now()), Utc(2026, 11, 27, 1, 0));
  clock.Set(Utc(2026, 11, 27, 1, 0));
  TriggerPoll next = Poll(*restarted, clock);
  ASSERT_EQ(next.events.size(), 1u);
  EXPECT_EQ(next.events[0].dedup_key, "schedule:2026-11-27T01:00:00Z");
}

TEST(ScheduleTriggerTest, RunOnceEmitsExactlyOneEventForAllMissedFires) {
  ManualClock clock(Utc(2026, 11, 23, 0, 30));
  auto spec = ScheduleSpec("0 * * * *", "UTC", CatchUp::kRunOnce);
  auto trigger = Make(spec, std::nullopt);
  std::string saved = Poll(*trigger, clock).state;
  trigger.reset();

  clock.Set(Utc(2026, 11, 23, 6, 20));  // 01:00 ... 06:00 were missed
  auto restarted = Make(spec, saved);
  TriggerPoll caught_up = Poll(*restarted, clock);
  ASSERT_EQ(caught_up.events.size(), 1u);
  EXPECT_EQ(caught_up.events[0].dedup_key, "schedule:2026-11-23T06:00:00Z");
  EXPECT_NE(caught_up.events[0].detail.find("one catch-up run"), std::string::npos) << caught_up.events[0].detail;

  // Storing the state failed (crash before commit): rebuilding from the old state repeats the same
  // event with the same key, so the queue's dedup makes one run of it.
  auto again = Make(spec, saved);
  TriggerPoll repeated = Poll(*again, clock);
  ASSERT_EQ(repeated.events.size(), 1u);
  EXPECT_EQ(repeated.events[0].dedup_key, caught_up.events[0].dedup_key);

  // With the new state stored, a restart fires nothing more for those hours.
  auto later = Make(spec, caught_up.state);
  EXPECT_TRUE(Poll(*later, clock).events.empty());
  clock.Set(Utc(2026, 11, 23, 7, 0));
  TriggerPoll seven = Poll(*later, clock);
  ASSERT_EQ(seven.events.size(), 1u);
  EXPECT_EQ(seven.events[0].dedup_key, "schedule:2026-11-23T07:00:00Z");
}

TEST(ScheduleTriggerTest, LateBeyondGraceCountsAsMissed) {
  ManualClock clock(Utc(2026, 11, 23, 0, 30));
  auto spec = ScheduleSpec("0 1 * * *", "UTC", CatchUp::kSkip);
  auto trigger = Make(spec, std::nullopt);
  (void)Poll(*trigger, clock);
  clock.Set(Utc(2026, 11, 23, 1, 0) + kScheduleGrace + seconds(1));
  EXPECT_TRUE(Poll(*trigger, clock).events.empty());
}

TEST(ScheduleTriggerTest, FrequentScheduleAfterLongDowntimeStaysCheap) {
  ManualClock clock(Utc(2026, 1, 1, 0, 0));
  auto spec = ScheduleSpec("* * * * * *", "UTC", CatchUp::kRunOnce);  // every second
  auto trigger = Make(spec, std::nullopt);
  std::string saved = Poll(*trigger, clock).state;
  clock.Set(Utc(2026, 11, 1, 0, 0));  // ten months later
  auto restarted = Make(spec, saved);
  TriggerPoll poll = Poll(*restarted, clock);
  ASSERT_EQ(poll.events.size(), 1u);
  EXPECT_EQ(poll.events[0].dedup_key, "schedule:2026-11-01T00:00:00Z");
}

TEST(ScheduleTriggerTest, UnreadableStateIsAnErrorNamingTheTrigger) {
  auto spec = ScheduleSpec("0 1 * * *", "UTC", CatchUp::kSkip);
  auto trigger = MakePolledTrigger(spec, PolledTriggerContext{"orders", {}, {}}, std::string("{not json"));
  ASSERT_FALSE(trigger.ok());
  EXPECT_NE(trigger.status().message().find("trigger schedule#0 of pipeline 'orders'"), std::string::npos)
      << trigger.status();
}

}  // namespace
}  // namespace sluice::scheduler::triggers
