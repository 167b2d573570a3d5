#include "scheduler/triggers/on_commit/on_commit_trigger.hpp"

#include <gtest/gtest.h>

#include <map>

#include "config/value.hpp"

namespace sluice::scheduler::triggers {
namespace {

struct Fixture {
  std::map<std::string, int64_t> versions;  // what the catalog holds
  TableVersionReader Reader() {
    return [this](const std::string& table) -> Result<int64_t> { return versions.count(table) ? versions[table] : 0; };
  }
};

TriggerSpec Spec(const std::string& yaml) {
  auto doc = config::ParseYaml(yaml, "pipelines/silver.yaml", {});
  EXPECT_TRUE(doc.ok()) << doc.status();
  auto specs = ParseTriggers(*doc->Find("triggers"), "silver");
  EXPECT_TRUE(specs.ok()) << specs.status();
  return specs->at(0);
}

std::unique_ptr<PolledTrigger> Make(const TriggerSpec& spec, Fixture& fixture, std::optional<std::string> state) {
  PolledTriggerContext context{"silver", "/", {}, fixture.Reader()};
  auto trigger = MakePolledTrigger(spec, context, std::move(state));
  EXPECT_TRUE(trigger.ok()) << trigger.status();
  return std::move(trigger).value();
}

TEST(OnCommitTriggerTest, NewVersionsStartOneRunAndCommitsBeforeTheFirstPollAreNotOwed) {
  Fixture f;
  f.versions = {{"raw.orders", 3}};
  auto spec = Spec("triggers:\n  - on_commit: [raw.orders, raw.events]\n");
  auto trigger = Make(spec, f, std::nullopt);
  TimePoint t0 = FromUnixMicros(1'000'000'000'000);
  auto first = trigger->Poll(t0);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->events.empty());
  EXPECT_TRUE(first->state_changed);

  auto idle = trigger->Poll(t0 + std::chrono::seconds(2));
  ASSERT_TRUE(idle.ok());
  EXPECT_TRUE(idle->events.empty());
  EXPECT_EQ(trigger->NextWake(t0), t0 + kOnCommitCheckEvery);

  f.versions["raw.events"] = 1;  // a table that did not exist gets its first commit
  f.versions["raw.orders"] = 5;
  auto fired = trigger->Poll(t0 + std::chrono::seconds(4));
  ASSERT_TRUE(fired.ok());
  ASSERT_EQ(fired->events.size(), 1u);
  EXPECT_EQ(fired->events[0].kind, "on_commit");
  EXPECT_EQ(fired->events[0].dedup_key, "on_commit:raw.events@1,raw.orders@5");
  EXPECT_NE(fired->events[0].detail.find("raw.orders version 5 (was 3)"), std::string::npos) << fired->events[0].detail;

  // After a restart from the stored state, the same versions start nothing.
  auto restarted = Make(spec, f, fired->state);
  auto again = restarted->Poll(t0 + std::chrono::seconds(6));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->events.empty());
}

TEST(OnCommitTriggerTest, CommitsWithinMinIntervalWaitForOneRun) {
  Fixture f;
  auto spec = Spec("triggers:\n  - on_commit: raw.orders\n    min_interval: 1m\n");
  auto trigger = Make(spec, f, std::nullopt);
  TimePoint t0 = FromUnixMicros(2'000'000'000'000);
  ASSERT_TRUE(trigger->Poll(t0).ok());
  f.versions["raw.orders"] = 1;
  ASSERT_EQ(trigger->Poll(t0 + std::chrono::seconds(1))->events.size(), 1u);
  f.versions["raw.orders"] = 2;
  EXPECT_TRUE(trigger->Poll(t0 + std::chrono::seconds(10))->events.empty());
  f.versions["raw.orders"] = 3;
  EXPECT_TRUE(trigger->Poll(t0 + std::chrono::seconds(30))->events.empty());
  EXPECT_EQ(trigger->NextWake(t0 + std::chrono::seconds(30)), t0 + std::chrono::seconds(61));
  auto due = trigger->Poll(t0 + std::chrono::seconds(61));
  ASSERT_EQ(due->events.size(), 1u);
  EXPECT_EQ(due->events[0].dedup_key, "on_commit:raw.orders@3");
}

TEST(OnCommitTriggerTest, ABadTableNameOrStateIsAnErrorThatSaysWhere) {
  auto doc = config::ParseYaml("triggers:\n  - on_commit: orders\n", "pipelines/silver.yaml", {});
  ASSERT_TRUE(doc.ok());
  auto specs = ParseTriggers(*doc->Find("triggers"), "silver");
  ASSERT_FALSE(specs.ok());
  EXPECT_NE(specs.status().message().find("pipelines/silver.yaml:2"), std::string::npos) << specs.status();
  Fixture f;
  auto spec = Spec("triggers:\n  - on_commit: raw.orders\n");
  auto broken = MakePolledTrigger(spec, PolledTriggerContext{"silver", "/", {}, f.Reader()}, std::string("{"));
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("on_commit#0"), std::string::npos) << broken.status();
}

}  // namespace
}  // namespace sluice::scheduler::triggers
