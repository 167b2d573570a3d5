#include <gtest/gtest.h>
#include <poll.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/clock.hpp"
#include "config/value.hpp"
#include "scheduler/triggers/file_arrival/file_arrival_trigger.hpp"
#include "scheduler/triggers/schedule/schedule_trigger.hpp"
#include "trigger_test_util.hpp"
#include "unit/storage/s3_test_support.hpp"

namespace sluice::scheduler::triggers {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

using testing::Utc;

class TempFolder {
 public:
  TempFolder() {
    std::string pattern = (fs::temp_directory_path() / "sluice-trigger-test-XXXXXX").string();
    EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
    path_ = pattern;
  }
  ~TempFolder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

/// Writes (or appends to) a file and gives it the modification time `mtime`, as an uploader would.
void WriteFile(const fs::path& file, const std::string& text, fs::file_time_type mtime, bool append = false) {
  fs::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
  out << text;
  out.close();
  fs::last_write_time(file, mtime);
}

fs::file_time_type Mtime(int seconds_since_base) {
  return fs::file_time_type(std::chrono::seconds(1700000000 + seconds_since_base));
}

/// The spec ParseTriggers makes of one `file_arrival:` item written as YAML flow text.
TriggerSpec Spec(const std::string& flow_map) {
  auto doc = config::ParseYaml("triggers:\n  - file_arrival: " + flow_map + "\n", "pipelines/shop.yaml", {});
  EXPECT_TRUE(doc.ok()) << doc.status();
  auto specs = ParseTriggers(*doc->Find("triggers"), "shop");
  EXPECT_TRUE(specs.ok()) << specs.status();
  return specs.ok() && !specs->empty() ? specs->front() : TriggerSpec{};
}

std::unique_ptr<PolledTrigger> Make(const TriggerSpec& spec, const fs::path& root,
                                    std::optional<std::string> state = std::nullopt) {
  return testing::MakeTrigger(spec, "shop", root, std::move(state));
}

TriggerPoll Poll(PolledTrigger& trigger, const Clock& clock) { return testing::PollAt(trigger, clock); }

TEST(FileArrivalTriggerTest, HalfWrittenFileWaitsUntilItStopsChanging) {
  TempFolder root;
  ManualClock clock(Utc(2026, 11, 23, 9, 0));
  auto trigger = Make(Spec("{path: incoming, settle: 30s}"), root.path());
  const fs::path file = root.path() / "incoming" / "orders.csv";

  WriteFile(file, "id,amount\n1,", Mtime(0));
  EXPECT_TRUE(Poll(*trigger, clock).events.empty());
  EXPECT_EQ(*trigger->NextWake(clock.Now()), clock.Now() + seconds(30));

  clock.Advance(seconds(20));
  WriteFile(file, "10\n2,", Mtime(20), /*append=*/true);  // still being written
  EXPECT_TRUE(Poll(*trigger, clock).events.empty());
  clock.Advance(seconds(20));  // 40 s after the first sight, but only 20 s since it last changed
  EXPECT_TRUE(Poll(*trigger, clock).events.empty());

  WriteFile(file, "20\n", Mtime(45), /*append=*/true);
  EXPECT_TRUE(Poll(*trigger, clock).events.empty());
  clock.Advance(seconds(29));
  EXPECT_TRUE(Poll(*trigger, clock).events.empty());
  clock.Advance(seconds(1));
  TriggerPoll settled = Poll(*trigger, clock);
  ASSERT_EQ(settled.events.size(), 1u);
  EXPECT_EQ(settled.events[0].kind, "file_arrival");
  EXPECT_NE(settled.events[0].detail.find("orders.csv"), std::string::npos) << settled.events[0].detail;
  EXPECT_TRUE(Poll(*trigger, clock).events.empty());  // each file triggers once

  // Hidden files (uploaders' temp files) never count; a replaced file is a new arrival.
  WriteFile(root.path() / "incoming" / ".orders.csv.part", "x", Mtime(50));
  WriteFile(file, "id,amount\n3,30\n", Mtime(60));
  EXPECT_TRUE(Poll(*trigger, clock).events.empty());
  clock.Advance(seconds(30));
  TriggerPoll replaced = Poll(*trigger, clock);
  ASSERT_EQ(replaced.events.size(), 1u);
  EXPECT_EQ(replaced.events[0].detail.find(".orders.csv.part"), std::string::npos) << replaced.events[0].detail;
  EXPECT_NE(replaced.events[0].dedup_key, settled.events[0].dedup_key);
}

constexpr const char* kShopSet =
    "{path: incoming/, require: [orders*.csv, reviews*.csv, shipments*.csv], settle: 30s, max_runs: 1 per day, "
    "timezone: Europe/Berlin}";

TEST(FileArrivalTriggerTest, RequiredSetRunsOncePerDayAndNothingTwiceAcrossRestarts) {
  TempFolder root;
  const fs::path in = root.path() / "incoming";
  const TriggerSpec spec = Spec(kShopSet);
  ManualClock clock(Utc(2026, 11, 23, 21, 0));  // 22:00 in Berlin
  auto trigger = Make(spec, root.path());

  WriteFile(in / "orders_2026-11-23.csv", "o", Mtime(0));
  WriteFile(in / "reviews_2026-11-23.csv", "r", Mtime(0));
  WriteFile(in / "notes.txt", "not part of the set", Mtime(0));
  EXPECT_TRUE(Poll(*trigger, clock).events.empty());
  clock.Advance(minutes(5));
  EXPECT_TRUE(Poll(*trigger, clock).events.empty());  // shipments missing

  WriteFile(in / "shipments_2026-11-23.csv", "s", Mtime(300));
  EXPECT_TRUE(Poll(*trigger, clock).events.empty());  // not settled yet
  clock.Advance(seconds(30));
  TriggerPoll first = Poll(*trigger, clock);
  ASSERT_EQ(first.events.size(), 1u);
  for (const char* name : {"orders_2026-11-23.csv", "reviews_2026-11-23.csv", "shipments_2026-11-23.csv"}) {
    EXPECT_NE(first.events[0].detail.find(name), std::string::npos) << first.events[0].detail;
  }
  EXPECT_EQ(first.events[0].detail.find("notes.txt"), std::string::npos);

  // A second complete set the same (Berlin) day waits for the next day.
  clock.Advance(minutes(10));
  WriteFile(in / "orders_late.csv", "o2", Mtime(900));
  WriteFile(in / "reviews_late.csv", "r2", Mtime(900));
  WriteFile(in / "shipments_late.csv", "s2", Mtime(900));
  EXPECT_TRUE(Poll(*trigger, clock).events.empty());
  clock.Advance(minutes(1));
  TriggerPoll blocked = Poll(*trigger, clock);
  EXPECT_TRUE(blocked.events.empty());
  EXPECT_LE(*trigger->NextWake(clock.Now()), Utc(2026, 11, 23, 23, 0));  // Berlin midnight at the latest

  // The daemon restarts before midnight: the new trigger picks nothing of the first set again.
  trigger = Make(spec, root.path(), blocked.state);
  clock.Set(Utc(2026, 11, 23, 22, 59, 59));
  EXPECT_TRUE(Poll(*trigger, clock).events.empty());

  clock.Set(Utc(2026, 11, 23, 23, 0, 1));  // 00:00:01 on the 24th in Berlin
  TriggerPoll next_day = Poll(*trigger, clock);
  ASSERT_EQ(next_day.events.size(), 1u);
  EXPECT_NE(next_day.events[0].detail.find("orders_late.csv"), std::string::npos) << next_day.events[0].detail;
  EXPECT_EQ(next_day.events[0].detail.find("orders_2026-11-23.csv"), std::string::npos) << next_day.events[0].detail;

  trigger = Make(spec, root.path(), next_day.state);
  clock.Advance(hours(30));
  TriggerPoll later = Poll(*trigger, clock);
  EXPECT_TRUE(later.events.empty());
  EXPECT_FALSE(later.state_changed);
}

TEST(FileArrivalTriggerTest, CrashBeforeStoringStateRepeatsTheSameEventKey) {
  TempFolder root;
  const fs::path in = root.path() / "incoming";
  const TriggerSpec spec = Spec(kShopSet);
  ManualClock clock(Utc(2026, 11, 23, 8, 0));
  auto trigger = Make(spec, root.path());
  for (const char* name : {"orders.csv", "reviews.csv", "shipments.csv"}) WriteFile(in / name, name, Mtime(0));
  std::string stored = Poll(*trigger, clock).state;
  clock.Advance(seconds(31));
  TriggerPoll fired = Poll(*trigger, clock);
  ASSERT_EQ(fired.events.size(), 1u);

  auto rebuilt = Make(spec, root.path(), stored);  // the state with the event was never stored
  TriggerPoll again = Poll(*rebuilt, clock);
  ASSERT_EQ(again.events.size(), 1u);
  EXPECT_EQ(again.events[0].dedup_key, fired.events[0].dedup_key);
}

TEST(FileArrivalTriggerTest, PartialSetPastTimeoutIsReportedOnce) {
  TempFolder root;
  const fs::path in = root.path() / "incoming";
  const TriggerSpec spec = Spec("{path: incoming, require: [orders*.csv, reviews*.csv], settle: 10s, timeout: 6h}");
  ManualClock clock(Utc(2026, 11, 23, 6, 0));
  auto trigger = Make(spec, root.path());
  WriteFile(in / "orders.csv", "o", Mtime(0));
  EXPECT_TRUE(Poll(*trigger, clock).alerts.empty());
  EXPECT_LE(*trigger->NextWake(clock.Now()), clock.Now() + seconds(10));
  clock.Advance(hours(6));
  EXPECT_TRUE(Poll(*trigger, clock).alerts.empty());
  clock.Advance(seconds(1));
  TriggerPoll late = Poll(*trigger, clock);
  ASSERT_EQ(late.alerts.size(), 1u);
  EXPECT_TRUE(late.events.empty());
  EXPECT_EQ(late.alerts[0].kind, "file_arrival_timeout");
  EXPECT_NE(late.alerts[0].detail.find("still missing reviews*.csv"), std::string::npos) << late.alerts[0].detail;
  EXPECT_NE(late.alerts[0].detail.find("orders.csv"), std::string::npos);

  auto restarted = Make(spec, root.path(), late.state);
  clock.Advance(hours(1));
  EXPECT_TRUE(Poll(*restarted, clock).alerts.empty());  // once, also across a restart

  WriteFile(in / "reviews.csv", "r", Mtime(10));
  (void)Poll(*restarted, clock);
  clock.Advance(seconds(10));
  TriggerPoll complete = Poll(*restarted, clock);
  EXPECT_EQ(complete.events.size(), 1u);
  EXPECT_TRUE(complete.alerts.empty());
}

TEST(FileArrivalTriggerTest, UsedFilesOutliveABrieflyEmptyFolderButNotAWeek) {
  TempFolder root;
  const fs::path file = root.path() / "in" / "a.csv";
  const TriggerSpec spec = Spec("{path: in, settle: 5s}");
  ManualClock clock(Utc(2026, 11, 23, 9, 0));
  auto trigger = Make(spec, root.path());
  WriteFile(file, "a", Mtime(0));
  (void)Poll(*trigger, clock);
  clock.Advance(seconds(5));
  ASSERT_EQ(Poll(*trigger, clock).events.size(), 1u);

  // The share is unmounted for an hour (the folder looks empty), then comes back unchanged.
  fs::rename(root.path() / "in", root.path() / "away");
  fs::create_directories(root.path() / "in");
  clock.Advance(hours(1));
  std::string state = Poll(*trigger, clock).state;
  EXPECT_NE(state.find("gone_since_us"), std::string::npos) << state;
  fs::remove_all(root.path() / "in");
  fs::rename(root.path() / "away", root.path() / "in");
  trigger = Make(spec, root.path(), state);
  clock.Advance(hours(1));
  (void)Poll(*trigger, clock);
  clock.Advance(minutes(1));
  EXPECT_TRUE(Poll(*trigger, clock).events.empty());

  // Gone for more than a week: forgotten, so the state stays as small as the folder.
  fs::remove(file);
  (void)Poll(*trigger, clock);
  clock.Advance(hours(24 * 8));
  TriggerPoll later = Poll(*trigger, clock);
  EXPECT_EQ(later.state.find("a.csv"), std::string::npos) << later.state;
}

TEST(FileArrivalTriggerTest, InotifyWakesTheDaemonWhenAFileLands) {
  TempFolder root;
  auto trigger = Make(Spec("{path: drop, pattern: '**'}"), root.path());
  ManualClock clock(Utc(2026, 11, 23, 9, 0));
  (void)Poll(*trigger, clock);
  ASSERT_GE(trigger->WakeFd(), 0);
  struct pollfd quiet {
    trigger->WakeFd(), POLLIN, 0
  };
  EXPECT_EQ(::poll(&quiet, 1, 0), 0);
  WriteFile(root.path() / "drop" / "sub" / "a.json", "{}", Mtime(0));
  struct pollfd ready {
    trigger->WakeFd(), POLLIN, 0
  };
  EXPECT_EQ(::poll(&ready, 1, 5000), 1);
  (void)Poll(*trigger, clock);  // drains the wake-up
  struct pollfd drained {
    trigger->WakeFd(), POLLIN, 0
  };
  EXPECT_EQ(::poll(&drained, 1, 0), 0);
  clock.Advance(seconds(30));
  TriggerPoll poll = Poll(*trigger, clock);
  ASSERT_EQ(poll.events.size(), 1u);
  EXPECT_NE(poll.events[0].detail.find("sub/a.json"), std::string::npos) << poll.events[0].detail;
}

TEST(FileArrivalTriggerTest, S3PrefixIsPolledWithEtags) {
  using storage::testing::SharedS3Server;
  ASSERT_TRUE(SharedS3Server().ok()) << SharedS3Server().error;
  const std::string prefix = "arrivals-" + std::to_string(::getpid());
  auto store = storage::OpenObjectStore(std::string("s3://") + storage::testing::kTestBucket + "/" + prefix,
                                        SharedS3Server().Options(), storage::s3::ProcessEnvironment());
  ASSERT_TRUE(store.ok()) << store.status();

  const TriggerSpec spec = Spec("{path: 's3://" + std::string(storage::testing::kTestBucket) + "/" + prefix +
                                "', require: [orders*.csv, reviews*.csv], settle: 30s, poll: 10s}");
  PolledTriggerContext context{"shop", "/nonexistent", testing::StoreFolders(SharedS3Server().Options())};
  auto made = MakePolledTrigger(spec, context, std::nullopt);
  ASSERT_TRUE(made.ok()) << made.status();
  auto trigger = std::move(*made);
  EXPECT_EQ(trigger->WakeFd(), -1);
  ManualClock clock(Utc(2026, 11, 23, 9, 0));

  ASSERT_TRUE((*store)->Put("orders_1.csv", "id\n1\n").ok());
  EXPECT_TRUE(Poll(*trigger, clock).events.empty());
  EXPECT_EQ(*trigger->NextWake(clock.Now()), clock.Now() + seconds(10));
  clock.Advance(seconds(20));
  ASSERT_TRUE((*store)->Put("orders_1.csv", "id\n1\n2\n").ok());  // re-uploaded: a new ETag
  ASSERT_TRUE((*store)->Put("reviews_1.csv", "id\n7\n").ok());
  EXPECT_TRUE(Poll(*trigger, clock).events.empty());
  clock.Advance(seconds(30));
  TriggerPoll fired = Poll(*trigger, clock);
  ASSERT_EQ(fired.events.size(), 1u);
  EXPECT_NE(fired.events[0].detail.find("orders_1.csv"), std::string::npos);

  auto restarted = MakePolledTrigger(spec, context, fired.state);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  clock.Advance(minutes(5));
  EXPECT_TRUE(Poll(**restarted, clock).events.empty());
  ASSERT_TRUE((*store)->DeleteMany({"orders_1.csv", "reviews_1.csv"}).ok());
}

}  // namespace
}  // namespace sluice::scheduler::triggers
