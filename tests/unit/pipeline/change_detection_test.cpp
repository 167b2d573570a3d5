#include "pipeline/change_detection.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace sluice::pipeline {
namespace {
namespace fs = std::filesystem;

/// Drives ChangeDetector as the job runner does: parts of a relation, then deletes, then the
/// index for the next run — against a real DuckDB.
class ChangeDetectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice-change-detection-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto db = engine::Database::Open({});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(db).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// One run over `parts` (each a VALUES list of (id, name, score)); returns the changed rows as
  /// "id:type:name" sorted, and leaves the new index at `index`.
  std::vector<std::string> RunOnce(const std::vector<std::string>& parts, const std::optional<fs::path>& previous,
                                   const fs::path& index, bool mark_deletes = true, Status* failure = nullptr) {
    auto conn = db_->Connect();
    EXPECT_TRUE(conn.ok());
    auto& c = **conn;
    ChangeDetectionOptions options;
    options.primary_key = {"id"};
    options.mark_deletes = mark_deletes;
    options.where = "job 't'";
    auto detector = ChangeDetector::Start(c, options, previous);
    EXPECT_TRUE(detector.ok()) << detector.status();
    std::vector<std::string> out;
    auto collect = [&](const std::string& table) {
      auto rows = c.Query("SELECT id || ':' || _change_type || ':' || coalesce(CAST(name AS VARCHAR), '~') AS r FROM " + table + " ORDER BY id");
      EXPECT_TRUE(rows.ok()) << rows.status();
      for (size_t i = 0; i < rows->rows.size(); ++i) out.push_back(rows->Get(i, "r"));
    };
    for (const auto& values : parts) {
      EXPECT_TRUE(c.Execute("CREATE OR REPLACE TEMP TABLE src AS SELECT * FROM (VALUES " + values +
                            ") AS t(id, name, score)")
                      .ok());
      auto changed = (*detector)->DiffPart("src");
      EXPECT_TRUE(changed.ok()) << changed.status();
      collect(*changed);
    }
    auto deleted = (*detector)->FinishDeletes();
    if (!deleted.ok()) {
      if (failure != nullptr) *failure = deleted.status();
      return out;
    }
    if (!deleted->empty()) collect(*deleted);
    EXPECT_TRUE((*detector)->WriteIndex(index).ok());
    EXPECT_EQ((*detector)->changes(), static_cast<int64_t>(out.size()));
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path dir_;
  std::unique_ptr<engine::Database> db_;
};

TEST_F(ChangeDetectionTest, InsertsUpdatesDeletesAcrossPartsAndRuns) {
  auto first = RunOnce({"(1, 'a', 1.5), (2, 'b', NULL)", "(3, 'c', 3.0)"}, std::nullopt, dir_ / "i1.parquet");
  EXPECT_EQ(first, (std::vector<std::string>{"1:insert:a", "2:insert:b", "3:insert:c"}));

  // Same rows, split into other parts: nothing changed.
  EXPECT_TRUE(RunOnce({"(3, 'c', 3.0)", "(2, 'b', NULL)", "(1, 'a', 1.5)"}, dir_ / "i1.parquet", dir_ / "i2.parquet").empty());

  // NULL → value and value → NULL are updates; 3 is gone; 4 is new.
  auto third = RunOnce({"(1, 'a', NULL), (2, 'b', 2.0)", "(4, CAST(NULL AS VARCHAR), 4.0)"}, dir_ / "i2.parquet", dir_ / "i3.parquet");
  EXPECT_EQ(third, (std::vector<std::string>{"1:update:a", "2:update:b", "3:delete:~", "4:insert:~"}));

  // Without delete markers the vanished key is simply dropped from the index.
  auto fourth = RunOnce({"(1, 'a', NULL)"}, dir_ / "i3.parquet", dir_ / "i4.parquet", /*mark_deletes=*/false);
  EXPECT_TRUE(fourth.empty());
  auto fifth = RunOnce({"(1, 'a', NULL), (2, 'b', 2.0)"}, dir_ / "i4.parquet", dir_ / "i5.parquet");
  EXPECT_EQ(fifth, (std::vector<std::string>{"2:insert:b"}));
}

TEST_F(ChangeDetectionTest, ValuesThatConcatenateAlikeStillDiffer) {
  // Without the length prefix 'ab' + 'c' and 'a' + 'bc' would encode the same.
  auto conn = db_->Connect();
  ASSERT_TRUE(conn.ok());
  RunOnce({"(1, 'ab', 'c')"}, std::nullopt, dir_ / "j1.parquet");
  auto second = RunOnce({"(1, 'a', 'bc')"}, dir_ / "j1.parquet", dir_ / "j2.parquet");
  EXPECT_EQ(second, (std::vector<std::string>{"1:update:a"}));
}

TEST_F(ChangeDetectionTest, DuplicateKeyFailsNamingIt) {
  Status failure;
  RunOnce({"(7, 'a', 1.0)", "(7, 'b', 2.0)"}, std::nullopt, dir_ / "k.parquet", true, &failure);
  ASSERT_FALSE(failure.ok());
  EXPECT_NE(failure.message().find("more than once"), std::string::npos) << failure;
  EXPECT_NE(failure.message().find("7"), std::string::npos) << failure;
  EXPECT_FALSE(fs::exists(dir_ / "k.parquet"));
}

TEST_F(ChangeDetectionTest, MissingKeyColumnIsNamedWithAHint) {
  auto conn = db_->Connect();
  ASSERT_TRUE(conn.ok());
  ChangeDetectionOptions options;
  options.primary_key = {"idd"};
  options.where = "job 't'";
  auto detector = ChangeDetector::Start(**conn, options, std::nullopt);
  ASSERT_TRUE(detector.ok());
  ASSERT_TRUE((*conn)->Execute("CREATE TEMP TABLE src AS SELECT 1 AS id").ok());
  auto diff = (*detector)->DiffPart("src");
  ASSERT_FALSE(diff.ok());
  EXPECT_NE(diff.status().message().find("did you mean 'id'"), std::string::npos) << diff.status();
  EXPECT_FALSE(ChangeDetector::Start(**conn, ChangeDetectionOptions{}, std::nullopt).ok());  // no key at all
}

TEST(ChangeIndexRefTest, RoundTripsAndRejectsGarbage) {
  auto ref = ChangeIndexRef::Parse(ChangeIndexRef{"_sluice/change_index/p/j/r.parquet", 42}.ToJson());
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->key, "_sluice/change_index/p/j/r.parquet");
  EXPECT_EQ(ref->rows, 42);
  EXPECT_TRUE(ChangeIndexRef::Parse("{}")->key.empty());
  EXPECT_FALSE(ChangeIndexRef::Parse("{not json").ok());
}

}  // namespace
}  // namespace sluice::pipeline
