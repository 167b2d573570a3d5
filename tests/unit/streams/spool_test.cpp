#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "streams/spool.hpp"

namespace sluice::streams {
namespace {

namespace fs = std::filesystem;

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice-spool-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  SpoolOptions Options() const {
    SpoolOptions options;
    options.dir = dir_;
    return options;
  }

  std::vector<std::string> Records(const fs::path& file) {
    std::vector<std::string> out;
    auto read = ReadSegment(file, [&](FrameKind kind, TimePoint, std::string_view payload) {
      if (kind == FrameKind::kRecord) out.emplace_back(payload);
      return Status::OK();
    });
    EXPECT_TRUE(read.ok()) << read.status().message();
    return out;
  }

  fs::path dir_;
  TimePoint now_ = FromUnixMicros(1764979200000000);
};

TEST_F(SpoolTest, AppendedRecordsAreReadBackAfterSealing) {
  auto spool = Spool::Open(Options(), 0, now_);
  ASSERT_TRUE(spool.ok()) << spool.status().message();
  auto first = (*spool)->Append({R"({"a":1})", R"({"a":2})"}, "", "", now_);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*spool)->WaitDurable(first->ticket.position).ok());
  EXPECT_EQ((*spool)->durable_position(), first->ticket.position);
  auto active = (*spool)->Active();
  EXPECT_EQ(active.records, 2u);
  EXPECT_EQ(active.record_bytes, 14u);
  ASSERT_TRUE(active.oldest.has_value());
  auto sealed = (*spool)->Seal(now_);
  ASSERT_TRUE(sealed.ok());
  ASSERT_EQ(sealed->size(), 1u);
  EXPECT_EQ(Records((*spool)->SegmentPath(sealed->front())), (std::vector<std::string>{R"({"a":1})", R"({"a":2})"}));
  EXPECT_EQ((*spool)->Active().records, 0u);
  // Sealing an empty active segment seals nothing more.
  EXPECT_EQ((*spool)->Seal(now_)->size(), 1u);
}

TEST_F(SpoolTest, ConcurrentAppendsShareFsyncsAndAllBecomeDurable) {
  auto spool = Spool::Open(Options(), 0, now_);
  ASSERT_TRUE(spool.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::string record = "{\"t\":" + std::to_string(t) + ",\"i\":" + std::to_string(i) + "}";
        auto appended = (*spool)->Append({record}, "", "", now_);
        ASSERT_TRUE(appended.ok());
        ASSERT_TRUE((*spool)->WaitDurable(appended->ticket.position).ok());
        EXPECT_GE((*spool)->durable_position(), appended->ticket.position);
      }
    });
  }
  for (auto& t : threads) t.join();
  auto sealed = (*spool)->Seal(now_);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(Records((*spool)->SegmentPath(sealed->front())).size(), 400u);
}

TEST_F(SpoolTest, RecoveryTruncatesATornTailAndKeepsWholeFrames) {
  fs::path segment;
  {
    auto spool = Spool::Open(Options(), 0, now_);
    ASSERT_TRUE(spool.ok());
    auto appended = (*spool)->Append({R"({"kept":1})", R"({"kept":2})"}, "", "", now_);
    ASSERT_TRUE((*spool)->WaitDurable(appended->ticket.position).ok());
    segment = (*spool)->SegmentPath(appended->ticket.segment);
  }
  // A write the process did not finish: half a frame.
  std::string torn;
  AppendFrame(&torn, FrameKind::kRecord, now_, R"({"torn":true})");
  {
    std::ofstream out(segment, std::ios::binary | std::ios::app);
    out.write(torn.data(), static_cast<std::streamsize>(torn.size() - 5));
  }
  auto size_before = fs::file_size(segment);
  auto spool = Spool::Open(Options(), 0, now_);
  ASSERT_TRUE(spool.ok()) << spool.status().message();
  EXPECT_EQ(fs::file_size(segment), size_before - (torn.size() - 5));
  auto sealed = (*spool)->Sealed();
  ASSERT_EQ(sealed.size(), 1u);
  EXPECT_EQ(Records(segment), (std::vector<std::string>{R"({"kept":1})", R"({"kept":2})"}));
  // New appends go to a later segment.
  EXPECT_GT((*spool)->Active().segment, sealed.front());
}

TEST_F(SpoolTest, ACorruptFrameEndsTheSegment) {
  fs::path segment;
  {
    auto spool = Spool::Open(Options(), 0, now_);
    auto appended = (*spool)->Append({R"({"a":1})", R"({"b":2})"}, "", "", now_);
    ASSERT_TRUE((*spool)->WaitDurable(appended->ticket.position).ok());
    segment = (*spool)->SegmentPath(appended->ticket.segment);
  }
  {
    // Flip the last payload byte: the second frame's CRC no longer matches.
    std::fstream file(segment, std::ios::binary | std::ios::in | std::ios::out);
    file.seekp(-1, std::ios::end);
    file.put('X');
  }
  EXPECT_EQ(Records(segment), (std::vector<std::string>{R"({"a":1})"}));
}

TEST_F(SpoolTest, CommittedSegmentsAreDeletedOnOpen) {
  uint64_t first_segment = 0;
  {
    auto spool = Spool::Open(Options(), 0, now_);
    auto appended = (*spool)->Append({R"({"a":1})"}, "", "", now_);
    ASSERT_TRUE((*spool)->WaitDurable(appended->ticket.position).ok());
    first_segment = appended->ticket.segment;
    ASSERT_TRUE((*spool)->Seal(now_).ok());
  }
  ASSERT_TRUE(fs::exists(dir_ / Spool::SegmentName(first_segment)));
  // The catalog says that segment is in the lake: the process died before deleting it.
  auto spool = Spool::Open(Options(), first_segment, now_);
  ASSERT_TRUE(spool.ok());
  EXPECT_FALSE(fs::exists(dir_ / Spool::SegmentName(first_segment)));
  EXPECT_TRUE((*spool)->Sealed().empty());
  EXPECT_GT((*spool)->Active().segment, first_segment);
}

TEST_F(SpoolTest, IdempotencyAnswersSurviveRestartsAndFlushes) {
  {
    auto spool = Spool::Open(Options(), 0, now_);
    auto appended = (*spool)->Append({R"({"a":1})"}, "api:k1", R"({"accepted":1,"failed":[]})", now_);
    ASSERT_EQ(appended->kind, AppendOutcome::Kind::kAppended);
    ASSERT_TRUE((*spool)->WaitDurable(appended->ticket.position).ok());
    auto again = (*spool)->Append({R"({"a":1})"}, "api:k1", "other", now_);
    ASSERT_EQ(again->kind, AppendOutcome::Kind::kRemembered);
    EXPECT_EQ(again->answer, R"({"accepted":1,"failed":[]})");
    // The flush of the segment holding the key deletes it; the key moved on to the next segment.
    auto sealed = (*spool)->Seal(now_);
    ASSERT_TRUE((*spool)->Drop(sealed->back()).ok());
  }
  auto spool = Spool::Open(Options(), 1, now_);
  ASSERT_TRUE(spool.ok());
  auto again = (*spool)->Append({R"({"a":1})"}, "api:k1", "other", now_);
  ASSERT_EQ(again->kind, AppendOutcome::Kind::kRemembered);
  EXPECT_EQ(again->answer, R"({"accepted":1,"failed":[]})");
  EXPECT_EQ((*spool)->Active().records, 0u);
}

TEST_F(SpoolTest, AppendsOverTheBoundAreRefused) {
  SpoolOptions options = Options();
  options.max_spool_bytes = 200;
  auto spool = Spool::Open(options, 0, now_);
  std::string record = "{\"pad\":\"" + std::string(100, 'x') + "\"}";
  auto first = (*spool)->Append({record}, "", "", now_);
  ASSERT_EQ(first->kind, AppendOutcome::Kind::kAppended);
  auto second = (*spool)->Append({record}, "", "", now_);
  EXPECT_EQ(second->kind, AppendOutcome::Kind::kFull);
}

}  // namespace
}  // namespace sluice::streams
