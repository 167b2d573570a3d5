#include <gtest/gtest.h>

#include "config/value.hpp"
#include "scheduler/triggers/file_arrival/file_arrival_trigger.hpp"
#include "scheduler/triggers/schedule/schedule_trigger.hpp"
#include "scheduler/triggers/switch_config.hpp"
#include "scheduler/triggers/trigger.hpp"
#include "scheduler/triggers/upstream/upstream_trigger.hpp"
#include "scheduler/triggers/webhook/webhook_trigger.hpp"

namespace sluice::scheduler::triggers {
namespace {

Result<std::vector<TriggerSpec>> ParseText(const std::string& yaml) {
  auto doc = config::ParseYaml(yaml, "pipelines/shop.yaml", {});
  EXPECT_TRUE(doc.ok()) << doc.status();
  if (!doc.ok()) return doc.status();
  const config::Value* triggers = doc->Find("triggers");
  return ParseTriggers(triggers != nullptr ? *triggers : config::Value(), "shop");
}

std::string ErrorOf(const std::string& yaml) {
  auto parsed = ParseText(yaml);
  EXPECT_FALSE(parsed.ok()) << yaml;
  return parsed.ok() ? "" : parsed.status().message();
}

TEST(TriggerRegistryTest, BuiltinKinds) {
  EXPECT_EQ(BuiltinTriggers().Names(), (std::vector<std::string>{"continuous", "file_arrival", "on_commit", "on_demand",
                                                                 "on_failure", "on_success", "schedule", "webhook"}));
}

TEST(TriggerParseTest, ConfigMdExampleParsesAsWritten) {
  auto specs = ParseText(R"(
triggers:
  - schedule: "*/15 * * * *"          # cron, 5 fields (6 with seconds)
    timezone: Europe/Berlin
    catch_up: run_once
  - file_arrival:
      path: incoming/                  # folder or s3:// prefix
      require: [orders*.csv, reviews*.csv, shipments*.csv]   # run when all have arrived
      settle: 30s                      # ignore files still being written
      max_runs: 1 per day
      timeout: 6h
  - on_success: other_pipeline
  - on_failure: [alerts, cleanup]
  - webhook: true                      # POST /api/v1/pipelines/NAME/trigger
  - on_demand: true
  - schedule: "0 0 6 * * MON"
)");
  ASSERT_TRUE(specs.ok()) << specs.status();
  ASSERT_EQ(specs->size(), 7u);
  const auto& schedule = (*specs)[0];
  EXPECT_EQ(schedule.kind, "schedule");
  EXPECT_EQ(schedule.key, "schedule#0");
  EXPECT_EQ(schedule.location.ToString(), "pipelines/shop.yaml:3:5");
  ASSERT_NE(schedule.As<ScheduleConfig>(), nullptr);
  EXPECT_EQ(schedule.As<ScheduleConfig>()->zone->name(), "Europe/Berlin");
  EXPECT_EQ(schedule.As<ScheduleConfig>()->catch_up, CatchUp::kRunOnce);
  EXPECT_EQ(schedule.As<FileArrivalConfig>(), nullptr);
  EXPECT_EQ((*specs)[6].key, "schedule#1");
  EXPECT_TRUE((*specs)[6].As<ScheduleConfig>()->cron.has_seconds());

  const auto* files = (*specs)[1].As<FileArrivalConfig>();
  ASSERT_NE(files, nullptr);
  EXPECT_EQ((*specs)[1].key, "file_arrival#0");
  EXPECT_EQ(files->path, "incoming/");
  EXPECT_EQ(files->require, (std::vector<std::string>{"orders*.csv", "reviews*.csv", "shipments*.csv"}));
  EXPECT_EQ(files->settle, std::chrono::seconds(30));
  ASSERT_TRUE(files->max_runs.has_value());
  EXPECT_EQ(files->max_runs->ToString(), "1 per day");
  EXPECT_EQ(*files->timeout, std::chrono::hours(6));
  EXPECT_EQ(files->poll, std::chrono::seconds(30));
  EXPECT_EQ(files->zone->name(), "UTC");

  EXPECT_EQ(UpstreamPipelines(*specs, "on_success"), (std::vector<std::string>{"other_pipeline"}));
  EXPECT_EQ(UpstreamPipelines(*specs, "on_failure"), (std::vector<std::string>{"alerts", "cleanup"}));
  EXPECT_TRUE(WebhookEnabled(*specs));
  EXPECT_TRUE(WebhookTokens(*specs).empty());
  EXPECT_TRUE(IsEnabled(*specs, "on_demand"));
  EXPECT_TRUE(IsPolled(BuiltinTriggers(), (*specs)[0]));
  EXPECT_TRUE(IsPolled(BuiltinTriggers(), (*specs)[1]));
  EXPECT_FALSE(IsPolled(BuiltinTriggers(), (*specs)[2]));

  EXPECT_TRUE(CheckTriggerReferences(*specs, "shop", {"shop", "other_pipeline", "alerts", "cleanup"}).ok());
  Status missing = CheckTriggerReferences(*specs, "shop", {"shop", "other_pipelines", "alerts"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("pipelines/shop.yaml:12:5: on_success trigger of pipeline 'shop' names pipeline "
                                   "'other_pipeline', which the project does not have (did you mean "
                                   "'other_pipelines'?)"),
            std::string::npos)
      << missing;
  EXPECT_NE(missing.message().find("'cleanup'"), std::string::npos) << missing;
}

TEST(TriggerParseTest, NoTriggersIsAnEmptyList) {
  auto specs = ParseText("name: shop\n");
  ASSERT_TRUE(specs.ok()) << specs.status();
  EXPECT_TRUE(specs->empty());
  auto webhook_off = ParseText("triggers:\n  - webhook: false\n");
  ASSERT_TRUE(webhook_off.ok()) << webhook_off.status();
  EXPECT_FALSE(WebhookEnabled(*webhook_off));
}

TEST(TriggerParseTest, AWebhookMayHaveItsOwnTokenFromASecretReference) {
  config::ParseOptions options;
  options.getenv = [](const std::string& name) -> std::optional<std::string> {
    if (name == "SHOP_HOOK") return std::string("s3cr3t-hook");
    return std::nullopt;
  };
  auto doc =
      config::ParseYaml("triggers:\n  - webhook: { token: \"${env:SHOP_HOOK}\" }\n", "pipelines/shop.yaml", options);
  ASSERT_TRUE(doc.ok()) << doc.status();
  auto specs = ParseTriggers(*doc->Find("triggers"), "shop");
  ASSERT_TRUE(specs.ok()) << specs.status();
  EXPECT_TRUE(WebhookEnabled(*specs));
  auto tokens = WebhookTokens(*specs);
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].Reveal(), "s3cr3t-hook");
  EXPECT_EQ((*specs)[0].config->Describe(), "webhook (own token)");  // never the token itself

  // Written into the file, the token would be shown by the API and kept in git.
  std::string plain = ErrorOf("triggers:\n  - webhook: { token: plain }\n");
  EXPECT_NE(plain.find("pipelines/shop.yaml:2:"), std::string::npos) << plain;
  EXPECT_NE(plain.find("webhook.token: must be a secret reference: ${env:NAME} or ${file:PATH}"), std::string::npos)
      << plain;
  EXPECT_EQ(plain.find("plain"), std::string::npos) << plain;
  std::string typo = ErrorOf("triggers:\n  - webhook: { tokn: x }\n");
  EXPECT_NE(typo.find("unknown key 'tokn' (did you mean 'token'?); webhook takes token"), std::string::npos) << typo;
  EXPECT_NE(ErrorOf("triggers:\n  - webhook: {}\n").find("needs token"), std::string::npos);
}

TEST(TriggerParseTest, ErrorsNameFileLineColumnKeyAndHint) {
  struct Case {
    std::string yaml;
    std::vector<std::string> expect;
  };
  const std::vector<Case> cases = {
      {"triggers:\n  - shedule: \"* * * * *\"\n",
       {"pipelines/shop.yaml:2:5: unknown trigger kind 'shedule' in triggers of pipeline 'shop' (did you mean "
        "'schedule'?)"}},
      {"triggers:\n  - schedule: \"* * * *\"\n",
       {"pipelines/shop.yaml:2:15: triggers[0].schedule: cron expression '* * * *' has 4 fields"}},
      {"triggers:\n  - schedule: \"0 6 * * *\"\n    timezone: Europe/Berln\n",
       {"pipelines/shop.yaml:3:15: triggers[0].timezone: unknown time zone 'Europe/Berln'",
        "did you mean 'Europe/Berlin'?"}},
      {"triggers:\n  - schedule: \"0 6 * * *\"\n    timzone: UTC\n",
       {"pipelines/shop.yaml:3:5: unknown key 'timzone' in schedule trigger of pipeline 'shop' (did you mean "
        "'timezone'?)"}},
      {"triggers:\n  - schedule: \"0 6 * * *\"\n    catch_up: run_twice\n",
       {"pipelines/shop.yaml:3:15: triggers[0].catch_up: catch_up 'run_twice' is not skip or run_once"}},
      {"triggers:\n  - file_arrival:\n      path: in\n      settle: soon\n",
       {"pipelines/shop.yaml:4:15: invalid value for 'settle' in file_arrival trigger of pipeline 'shop': must be a "
        "duration"}},
      {"triggers:\n  - file_arrival:\n      path: in\n      require: [a*.csv]\n      max_runs: 1 per fortnight\n",
       {"pipelines/shop.yaml:5:17: triggers[0].file_arrival.max_runs: max_runs '1 per fortnight' names the period "
        "'fortnight'",
        "N per minute|hour|day|week"}},
      {"triggers:\n  - file_arrival:\n      path: in\n      max_runs: twice daily\n",
       {"max_runs 'twice daily' does not start with a count"}},
      {"triggers:\n  - file_arrival:\n      require: [a*.csv]\n",
       {"pipelines/shop.yaml:2:5: missing required key 'path' in file_arrival trigger of pipeline 'shop'"}},
      {"triggers:\n  - file_arrival:\n      path: in\n      requires: [a.csv]\n",
       {"pipelines/shop.yaml:4:7: unknown key 'requires' in file_arrival trigger", "(did you mean 'require'?)"}},
      {"triggers:\n  - file_arrival:\n      path: in\n      timeout: 6h\n", {"timeout applies to a set of files"}},
      {"triggers:\n  - file_arrival: incoming/\n", {"invalid value for 'file_arrival'", "must be a map"}},
      {"triggers:\n  - on_success: shop\n", {"pipeline 'shop' cannot trigger itself with on_success"}},
      {"triggers:\n  - webhook: maybe\n", {"triggers[0].webhook: must be true, false or { token: \"${env:NAME}\" }"}},
      {"triggers:\n  - schedule: \"0 6 * * *\"\n    webhook: true\n",
       {"one trigger per item, but this one has schedule and webhook"}},
      {"triggers:\n  - on_demand\n", {"a trigger must be a map whose key names its kind"}},
      {"triggers:\n  schedule: \"0 6 * * *\"\n", {"triggers of pipeline 'shop' must be a list"}},
  };
  for (const auto& c : cases) {
    std::string message = ErrorOf(c.yaml);
    for (const auto& expected : c.expect) {
      EXPECT_NE(message.find(expected), std::string::npos)
          << c.yaml << "\n-> " << message << "\nexpected: " << expected;
    }
  }
  // Several problems are reported together.
  std::string both = ErrorOf("triggers:\n  - schedule: \"61 * * * *\"\n  - webhok: true\n");
  EXPECT_NE(both.find("2 configuration errors"), std::string::npos) << both;
}

TEST(MaxRunsTest, ParsesCountAndPeriodAndComputesCalendarPeriods) {
  auto parsed = ParseMaxRuns("3 per hour");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->count, 3);
  EXPECT_EQ(parsed->period, MaxRuns::Period::kHour);
  EXPECT_EQ(ParseMaxRuns("2/weeks")->period, MaxRuns::Period::kWeek);
  EXPECT_FALSE(ParseMaxRuns("0 per day").ok());

  auto berlin = TimeZone::Load("Europe/Berlin");
  ASSERT_TRUE(berlin.ok());
  TimePoint t(std::chrono::seconds(CivilTime{2026, 11, 25, 23, 30, 0}.ToSeconds()));  // Thu 00:30 in Berlin
  EXPECT_EQ(PeriodId(MaxRuns::Period::kDay, t, **berlin), "2026-11-26");
  EXPECT_EQ(PeriodId(MaxRuns::Period::kWeek, t, **berlin), "week of 2026-11-23");
  EXPECT_EQ(PeriodId(MaxRuns::Period::kHour, t, **berlin), "2026-11-26T00");
  EXPECT_EQ(FormatInstant(NextPeriodStart(MaxRuns::Period::kDay, t, **berlin)), "2026-11-26T23:00:00Z");
  EXPECT_EQ(FormatInstant(NextPeriodStart(MaxRuns::Period::kWeek, t, **berlin)), "2026-11-29T23:00:00Z");
  // The day of the spring-forward switch is 23 hours long.
  TimePoint spring(std::chrono::seconds(CivilTime{2026, 3, 29, 12, 0, 0}.ToSeconds()));
  EXPECT_EQ(FormatInstant(NextPeriodStart(MaxRuns::Period::kDay, spring, **berlin)), "2026-03-29T22:00:00Z");
}

TEST(FileGlobTest, SegmentsAndDoubleStar) {
  EXPECT_TRUE(MatchesFileGlob("orders*.csv", "orders_2026.csv"));
  EXPECT_TRUE(MatchesFileGlob("orders*.csv", "orders_2026.csv.gz"));
  EXPECT_FALSE(MatchesFileGlob("orders*.csv", "sub/orders_2026.csv"));
  EXPECT_TRUE(MatchesFileGlob("**/orders*.csv", "a/b/orders_1.csv"));
  EXPECT_TRUE(MatchesFileGlob("*/orders?.csv", "a/orders1.csv"));
  EXPECT_FALSE(MatchesFileGlob("*", "a/b.csv"));
  EXPECT_TRUE(MatchesFileGlob("**", "a/b.csv"));
}

}  // namespace
}  // namespace sluice::scheduler::triggers
