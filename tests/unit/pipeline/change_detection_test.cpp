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
      auto rows = c.Query("SELECT id || ':' || _change_type || ':' || coalesce(CAST(name AS VARCHAR), '~') AS r FROM " +
                          table + " ORDER BY id");
      EXPECT_TRUE(rows.ok()) << rows.status();
      for (size_t i = 0; i < rows->rows.size(); ++i) out.push_back(rows->Get(i, "r"));
    };
    for (const auto& values : parts) {
      EXPECT_TRUE(
          c.Execute("CREATE OR REPLACE TEMP TABLE src AS SELECT * FROM (VALUES " + values + ") AS t(id, name, score)")
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
  EXPECT_TRUE(
      RunOnce({"(3, 'c', 3.0)", "(2, 'b', NULL)", "(1, 'a', 1.5)"}, dir_ / "i1.parquet", dir_ / "i2.parquet").empty());

  // NULL → value and value → NULL are updates; 3 is gone; 4 is new.
  auto third = RunOnce({"(1, 'a', NULL), (2, 'b', 2.0)", "(4, CAST(NULL AS VARCHAR), 4.0)"}, dir_ / "i2.parquet",
                       dir_ / "i3.parquet");
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

/// A source that hashes rows itself: its parts carry _sluice_row_hash; here the "hash" is the
/// value column itself, which is enough to tell changed rows from unchanged ones.
class SourceHashTest : public ChangeDetectionTest {
 protected:
  ChangeDetectionOptions Options(std::string previous_kind) const {
    ChangeDetectionOptions options;
    options.primary_key = {"id"};
    options.mark_deletes = true;
    options.where = "job 't'";
    options.source_hash_kind = "test:value";
    options.previous_hash_kind = std::move(previous_kind);
    return options;
  }
  /// Rows of `table` as "id:type:name", sorted.
  std::vector<std::string> Rows(engine::Connection& c, const std::string& table) {
    auto rows =
        c.Query("SELECT id || ':' || _change_type || ':' || coalesce(name, '~') AS r FROM " + table + " ORDER BY r");
    EXPECT_TRUE(rows.ok()) << rows.status();
    std::vector<std::string> out;
    for (size_t i = 0; rows.ok() && i < rows->rows.size(); ++i) out.push_back(rows->Get(i, "r"));
    return out;
  }
};

TEST_F(SourceHashTest, KeysFirstFetchesOnlyChangedRowsAndFindsDeletes) {
  auto conn = db_->Connect();
  ASSERT_TRUE(conn.ok());
  auto& c = **conn;
  // The previous run's index: ids 1..3 with their source hashes.
  ASSERT_TRUE(c.Execute("COPY (SELECT * FROM (VALUES (1, 10), (2, 20), (3, 30)) t(id, _row_hash)) TO '" +
                        (dir_ / "prev.parquet").string() + "' (FORMAT parquet)")
                  .ok());
  auto detector = ChangeDetector::Start(c, Options("test:value"), dir_ / "prev.parquet");
  ASSERT_TRUE(detector.ok()) << detector.status();
  ASSERT_TRUE((*detector)->CanDiffKeysFirst());
  // Now: 1 unchanged, 2 changed, 3 gone, 4 new.
  ASSERT_TRUE(
      c.Execute("CREATE TEMP TABLE kh AS SELECT * FROM (VALUES (1, 10), (2, 21), (4, 40)) t(id, _sluice_row_hash)")
          .ok());
  auto keys = (*detector)->DiffKeys("kh");
  ASSERT_TRUE(keys.ok()) << keys.status();
  auto wanted = c.Query("SELECT string_agg(CAST(id AS VARCHAR), ',' ORDER BY id) AS k FROM " + *keys);
  ASSERT_TRUE(wanted.ok());
  EXPECT_EQ(wanted->Get(0, "k"), "2,4");  // only what the source has to deliver
  ASSERT_TRUE(
      c.Execute(
           "CREATE TEMP TABLE part AS SELECT * FROM (VALUES (2, 'b', 21), (4, 'd', 40)) t(id, name, _sluice_row_hash)")
          .ok());
  auto changed = (*detector)->DiffPart("part");
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(Rows(c, *changed), (std::vector<std::string>{"2:update:b", "4:insert:d"}));
  auto deleted = (*detector)->FinishDeletes();
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(Rows(c, *deleted), (std::vector<std::string>{"3:delete:~"}));
  EXPECT_EQ((*detector)->inserts(), 1);
  EXPECT_EQ((*detector)->updates(), 1);
  EXPECT_EQ((*detector)->deletes(), 1);
  EXPECT_EQ((*detector)->index_rows(), 3);
  EXPECT_EQ((*detector)->hash_kind(), "test:value");
  ASSERT_TRUE((*detector)->WriteIndex(dir_ / "next.parquet").ok());
  auto index = c.Query("SELECT string_agg(id || '=' || _row_hash, ',' ORDER BY id) AS i FROM read_parquet('" +
                       (dir_ / "next.parquet").string() + "')");
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->Get(0, "i"), "1=10,2=21,4=40");
}

TEST_F(SourceHashTest, PortableIndexIsComparedOnceWhileTheSourceHashIsKept) {
  RunOnce({"(1, 'a', 1.5), (2, 'b', 2.5)"}, std::nullopt, dir_ / "md5.parquet");
  auto conn = db_->Connect();
  ASSERT_TRUE(conn.ok());
  auto& c = **conn;
  auto detector = ChangeDetector::Start(c, Options("md5"), dir_ / "md5.parquet");
  ASSERT_TRUE(detector.ok()) << detector.status();
  EXPECT_FALSE((*detector)->CanDiffKeysFirst());
  ASSERT_TRUE(c.Execute("CREATE TEMP TABLE src AS SELECT * FROM (VALUES (1, 'a', 1.5, 7), (2, 'B', 2.5, 8)) "
                        "t(id, name, score, _sluice_row_hash)")
                  .ok());
  auto changed = (*detector)->DiffPart("src");
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(Rows(c, *changed), (std::vector<std::string>{"2:update:B"}));  // compared by md5
  auto columns = c.Describe("SELECT * FROM " + *changed);
  ASSERT_TRUE(columns.ok());
  for (const auto& column : *columns) EXPECT_NE(column.name, "_sluice_row_hash");
  ASSERT_TRUE((*detector)->FinishDeletes().ok());
  ASSERT_TRUE((*detector)->WriteIndex(dir_ / "source.parquet").ok());
  EXPECT_EQ((*detector)->hash_kind(), "test:value");
  auto index = c.Query("SELECT string_agg(id || '=' || _row_hash, ',' ORDER BY id) AS i FROM read_parquet('" +
                       (dir_ / "source.parquet").string() + "')");
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->Get(0, "i"), "1=7,2=8");  // kept the source's hashes
}

TEST_F(SourceHashTest, AnIndexOfSourceHashesNeedsTheSourceToHashAgain) {
  auto conn = db_->Connect();
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)
                  ->Execute("COPY (SELECT 1 AS id, 10 AS _row_hash) TO '" + (dir_ / "p.parquet").string() +
                            "' (FORMAT parquet)")
                  .ok());
  ChangeDetectionOptions options = Options("test:value");
  options.source_hash_kind = "";  // this run hashes with md5
  auto detector = ChangeDetector::Start(**conn, options, dir_ / "p.parquet");
  ASSERT_FALSE(detector.ok());
  EXPECT_NE(detector.status().message().find("--full-refresh"), std::string::npos) << detector.status();
  EXPECT_NE(detector.status().message().find("job 't'"), std::string::npos) << detector.status();
}

TEST(ChangeIndexRefTest, RoundTripsAndRejectsGarbage) {
  auto ref = ChangeIndexRef::Parse(ChangeIndexRef{"_sluice/change_index/p/j/r.parquet", 42, "postgres:x"}.ToJson());
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->key, "_sluice/change_index/p/j/r.parquet");
  EXPECT_EQ(ref->rows, 42);
  EXPECT_EQ(ref->hash_kind, "postgres:x");
  EXPECT_EQ(ChangeIndexRef::Parse(R"({"key": "k", "rows": 1})")->hash_kind, "md5");  // written before hash kinds
  EXPECT_TRUE(ChangeIndexRef::Parse("{}")->key.empty());
  EXPECT_FALSE(ChangeIndexRef::Parse("{not json").ok());
}

}  // namespace
}  // namespace sluice::pipeline
