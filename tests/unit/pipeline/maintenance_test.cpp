// Maintenance (compact, vacuum) and the query byte estimate against a real SQLite catalog, a real
// local lake and a real DuckDB.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <set>
#include <utility>

#include "catalog/sqlite_metadata_store.hpp"
#include "common/strings.hpp"
#include "pipeline/catalog_views.hpp"
#include "pipeline/change_detection.hpp"
#include "pipeline/maintenance.hpp"
#include "pipeline/pipeline_lock.hpp"
#include "pipeline/resumable_load.hpp"
#include "storage/local_object_store.hpp"
#include "unit/engine_support.hpp"

namespace sluice::pipeline {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

/// The local store, with a hook that runs once just before the first PutFile: the moment between
/// a writer reading the table and committing to it, where another writer can commit first.
class StoreWithHook : public storage::ObjectStore {
 public:
  explicit StoreWithHook(std::unique_ptr<storage::ObjectStore> store) : store_(std::move(store)) {}
  std::function<void()> before_first_put;

  std::string Describe() const override { return store_->Describe(); }
  Status Put(const std::string& key, std::string_view data) override { return store_->Put(key, data); }
  Status PutFile(const std::string& key, const fs::path& local, bool consume) override {
    if (before_first_put) std::exchange(before_first_put, nullptr)();
    return store_->PutFile(key, local, consume);
  }
  Result<std::string> Get(const std::string& key) override { return store_->Get(key); }
  Status GetToFile(const std::string& key, const fs::path& local) override { return store_->GetToFile(key, local); }
  Result<std::unique_ptr<storage::ObjectReader>> OpenRead(const std::string& key, uint64_t offset,
                                                          std::optional<uint64_t> length) override {
    return store_->OpenRead(key, offset, length);
  }
  Result<std::unique_ptr<storage::ObjectWriter>> OpenWrite(const std::string& key) override {
    return store_->OpenWrite(key);
  }
  Result<std::vector<storage::ObjectInfo>> List(const std::string& prefix) override { return store_->List(prefix); }
  Result<storage::ObjectInfo> Stat(const std::string& key) override { return store_->Stat(key); }
  Status Delete(const std::string& key) override { return store_->Delete(key); }
  Status DeleteMany(const std::vector<std::string>& keys) override { return store_->DeleteMany(keys); }
  std::optional<fs::path> LocalPath(const std::string& key) const override { return store_->LocalPath(key); }

 private:
  std::unique_ptr<storage::ObjectStore> store_;
};

class MaintenanceTest : public ::testing::Test, protected test_support::WithEngine {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sluice-maintenance-XXXXXX";
    dir_ = ::mkdtemp(pattern);
    clock_ = std::make_shared<ManualClock>(TimePoint(std::chrono::hours(24 * 365 * 56)));
    auto catalog = catalog::SqliteMetadataStore::Open(dir_ / "catalog.db", clock_);
    ASSERT_TRUE(catalog.ok()) << catalog.status();
    catalog_ = std::move(catalog).value();
    auto local = storage::MakeLocalObjectStore(dir_ / "lake", {.sync = false});
    ASSERT_TRUE(local.ok()) << local.status();
    lake_ = std::make_unique<StoreWithHook>(std::move(local).value());
    ASSERT_NO_FATAL_FAILURE(OpenEngine());
  }
  void TearDown() override {
    conn_.reset();
    db_.reset();
    fs::remove_all(dir_);
  }

  /// Writes `rows` rows as a real Parquet file at `key` in the lake and returns its catalog entry.
  catalog::DataFile WriteFile(const std::string& key, int rows,
                              std::vector<std::pair<std::string, std::string>> partition = {}) {
    fs::path local = dir_ / "lake" / key;
    fs::create_directories(local.parent_path());
    EXPECT_TRUE(conn_
                    ->Execute(fmt::format("COPY (SELECT i AS id, 'x' || i AS name FROM range({}) t(i)) TO {} "
                                          "(FORMAT parquet)",
                                          rows, SqlQuote(local.string())))
                    .ok());
    return catalog::DataFile{key, rows, static_cast<int64_t>(fs::file_size(local)), std::move(partition), 0};
  }

  /// Commits `files` to table silver.t (created partitioned by `partition_columns` on first use).
  Result<int64_t> Append(std::vector<catalog::DataFile> files, std::vector<std::string> partition_columns = {},
                         catalog::WriteOperation operation = catalog::WriteOperation::kAppend) {
    catalog::CommitRequest commit;
    commit.run_id = RunId{"r" + std::to_string(++commits_)};
    commit.pipeline = "p";
    commit.job = "j";
    catalog::TableChange change;
    change.table = table_;
    change.operation = operation;
    change.remove_all_current = operation == catalog::WriteOperation::kOverwrite;
    change.location = "silver/t";
    change.partition_columns = std::move(partition_columns);
    change.schema = catalog::Schema{{{"id", "BIGINT", true}, {"name", "VARCHAR", true}}};
    change.added = std::move(files);
    commit.tables.push_back(std::move(change));
    SLUICE_ASSIGN_OR_RETURN(auto result, catalog_->Commit(commit));
    return result.versions.front();
  }

  std::set<std::string> CurrentPaths() {
    std::set<std::string> paths;
    auto files = catalog_->ListFiles(table_);
    EXPECT_TRUE(files.ok()) << files.status();
    if (files.ok()) {
      for (const auto& f : *files) paths.insert(f.path);
    }
    return paths;
  }

  fs::path dir_;
  std::shared_ptr<ManualClock> clock_;
  std::unique_ptr<catalog::MetadataStore> catalog_;
  std::unique_ptr<StoreWithHook> lake_;
  /// What the query planner (DuckDB-parsed, partition-pruned) says `sql` would read.
  Result<ScanEstimate> Estimate(const std::string& sql, std::optional<int64_t> as_of = std::nullopt) {
    SLUICE_ASSIGN_OR_RETURN(auto plan, PlanScan(*conn_, *catalog_, sql, as_of));
    return EstimateScan(plan);
  }

  catalog::TableName table_{"silver", "t"};
  int commits_ = 0;
};

TEST_F(MaintenanceTest, EstimatePrunesPartitionsByEqualsAndInButNotByOtherColumns) {
  std::vector<catalog::DataFile> files = {WriteFile("silver/t/country=DE/a.parquet", 100, {{"country", "DE"}}),
                                          WriteFile("silver/t/country=FR/b.parquet", 200, {{"country", "FR"}}),
                                          WriteFile("silver/t/country=US/c.parquet", 300, {{"country", "US"}})};
  uint64_t de = files[0].bytes, fr = files[1].bytes, us = files[2].bytes;
  ASSERT_TRUE(Append(files, {"country"}).ok());

  auto all = Estimate("SELECT count(*) FROM silver.t");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->bytes, de + fr + us);
  EXPECT_EQ(all->files, 3);
  EXPECT_EQ(all->files_pruned, 0);
  EXPECT_EQ(all->tables, std::vector<std::string>{"silver.t"});

  auto equals = Estimate("SELECT * FROM silver.t WHERE country = 'FR'");
  ASSERT_TRUE(equals.ok()) << equals.status();
  EXPECT_EQ(equals->bytes, fr);
  EXPECT_EQ(equals->files, 1);
  EXPECT_EQ(equals->files_pruned, 2);

  auto in_list = Estimate("SELECT * FROM \"silver\".\"t\" WHERE \"country\" IN ('DE', 'US') AND id > 5");
  ASSERT_TRUE(in_list.ok()) << in_list.status();
  EXPECT_EQ(in_list->bytes, de + us);
  EXPECT_EQ(in_list->files_pruned, 1);

  // A filter on a column that is not a partition column cannot rule out any file.
  auto other = Estimate("SELECT * FROM silver.t WHERE name = 'x1'");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->bytes, de + fr + us);
  EXPECT_EQ(other->files_pruned, 0);

  // OR may widen the selection past the partition predicate: no pruning, an upper bound.
  auto widened = Estimate("SELECT * FROM silver.t WHERE country = 'FR' OR id = 1");
  ASSERT_TRUE(widened.ok()) << widened.status();
  EXPECT_EQ(widened->bytes, de + fr + us);

  // A table the SQL does not name costs nothing; a longer name containing it is not it.
  auto unrelated = Estimate("SELECT * FROM silver.t_archive");
  ASSERT_TRUE(unrelated.ok()) << unrelated.status();
  EXPECT_EQ(unrelated->bytes, 0u);
  EXPECT_TRUE(unrelated->tables.empty());

  // As of an older version, only that version's files count.
  ASSERT_TRUE(Append({WriteFile("silver/t/country=FR/d.parquet", 50, {{"country", "FR"}})}, {"country"}).ok());
  auto now = Estimate("SELECT * FROM silver.t WHERE country = 'FR'");
  auto then = Estimate("SELECT * FROM silver.t WHERE country = 'FR'", 1);
  ASSERT_TRUE(now.ok() && then.ok());
  EXPECT_EQ(now->files, 2);
  EXPECT_EQ(then->files, 1);
  EXPECT_EQ(then->bytes, fr);
}

TEST_F(MaintenanceTest, CompactMergesSmallFilesInOneCommit) {
  ASSERT_TRUE(Append({WriteFile("silver/t/a.parquet", 10), WriteFile("silver/t/b.parquet", 20)}).ok());
  ASSERT_TRUE(Append({WriteFile("silver/t/c.parquet", 30)}).ok());
  CompactOptions options;
  options.scratch = dir_ / "scratch";
  options.run_id = RunId{"compact1"};
  auto report = Compact(*catalog_, *lake_, *conn_, table_, options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->version, 3);
  EXPECT_EQ(report->files_before, 3);
  EXPECT_EQ(report->files_after, 1);
  EXPECT_EQ(report->rows, 60);
  auto files = catalog_->ListFiles(table_);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].rows, 60);
  // The old files stay in the lake for time travel until vacuum.
  EXPECT_TRUE(fs::exists(dir_ / "lake/silver/t/a.parquet"));
}

TEST_F(MaintenanceTest, CompactLosingARaceToAnotherCommitPublishesNothing) {
  ASSERT_TRUE(Append({WriteFile("silver/t/a.parquet", 10), WriteFile("silver/t/b.parquet", 20)}).ok());
  // Another writer appends after compact has read version 1 and before it commits.
  catalog::DataFile late = WriteFile("silver/t/late.parquet", 5);
  lake_->before_first_put = [&] { ASSERT_TRUE(Append({late}).ok()); };
  CompactOptions options;
  options.scratch = dir_ / "scratch";
  options.run_id = RunId{"compact1"};
  auto report = Compact(*catalog_, *lake_, *conn_, table_, options);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kConflict);
  EXPECT_NE(report.status().message().find("silver.t changed while it was being compacted (it was at version 1)"),
            std::string::npos)
      << report.status();
  EXPECT_NE(report.status().message().find("nothing was committed"), std::string::npos);
  EXPECT_NE(report.status().message().find("sluice maintain compact silver.t"), std::string::npos);

  // The table is exactly what the other writer left: version 2, its three files, no compacted file.
  auto table = catalog_->GetTable(table_);
  ASSERT_TRUE(table.ok() && table->has_value());
  EXPECT_EQ((*table)->current_version, 2);
  EXPECT_EQ(CurrentPaths(),
            (std::set<std::string>{"silver/t/a.parquet", "silver/t/b.parquet", "silver/t/late.parquet"}));
  // The compacted file it had uploaded was taken back out of the lake.
  auto listed = lake_->List("silver/t/");
  ASSERT_TRUE(listed.ok());
  for (const auto& object : *listed) EXPECT_EQ(object.key.find("compact-"), std::string::npos) << object.key;

  // Run again, it succeeds over the new version.
  options.run_id = RunId{"compact2"};
  auto again = Compact(*catalog_, *lake_, *conn_, table_, options);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->version, 3);
  EXPECT_EQ(again->rows, 35);
}

TEST_F(MaintenanceTest, VacuumKeepsFilesOfVersionsInsideTheRetainPeriod) {
  ASSERT_TRUE(Append({WriteFile("silver/t/v1.parquet", 10)}).ok());
  clock_->Advance(24h);
  // Day 1: v2 replaces v1's file.
  ASSERT_TRUE(Append({WriteFile("silver/t/v2.parquet", 10)}, {}, catalog::WriteOperation::kOverwrite).ok());
  clock_->Advance(5 * 24h);
  // Day 6: v3 replaces v2's file.
  ASSERT_TRUE(Append({WriteFile("silver/t/v3.parquet", 10)}, {}, catalog::WriteOperation::kOverwrite).ok());
  clock_->Advance(2 * 24h);
  // Day 8, --retain 3d: v1's file was removed 7 days ago (gone), v2's 2 days ago (kept: time travel
  // to version 2 still works), v3's is current (kept).
  VacuumOptions options;
  options.retain = 3 * 24h;
  auto dry = Vacuum(*catalog_, *lake_, *clock_, VacuumOptions{options.retain, /*dry_run=*/true});
  ASSERT_TRUE(dry.ok()) << dry.status();
  ASSERT_EQ(dry->objects.size(), 1u);
  EXPECT_TRUE(fs::exists(dir_ / "lake/silver/t/v1.parquet"));  // a dry run deletes nothing

  auto report = Vacuum(*catalog_, *lake_, *clock_, options);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->objects.size(), 1u);
  EXPECT_EQ(report->objects[0].key, "silver/t/v1.parquet");
  EXPECT_EQ(report->objects[0].reason, "removed from its table");
  EXPECT_FALSE(fs::exists(dir_ / "lake/silver/t/v1.parquet"));
  EXPECT_TRUE(fs::exists(dir_ / "lake/silver/t/v2.parquet"));
  EXPECT_TRUE(fs::exists(dir_ / "lake/silver/t/v3.parquet"));
  auto v2 = catalog_->ListFiles(table_, 2);
  ASSERT_TRUE(v2.ok());
  ASSERT_EQ(v2->size(), 1u);
  EXPECT_TRUE(fs::exists(dir_ / "lake" / (*v2)[0].path));

  // An object no commit ever referenced (a run that died before committing) goes once older than retain.
  WriteFile("silver/t/orphan.parquet", 1);
  auto young = Vacuum(*catalog_, *lake_, *clock_, options);
  ASSERT_TRUE(young.ok());
  EXPECT_TRUE(young->objects.empty());
  EXPECT_TRUE(fs::exists(dir_ / "lake/silver/t/orphan.parquet"));
}

TEST_F(MaintenanceTest, VacuumKeepsWhatARunInFlightUploadedOrReadWhateverTheRetainPeriod) {
  // Lake objects carry the real time; the catalog's clock starts an hour before it.
  clock_->Set(std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()) - 1h);
  ASSERT_TRUE(Append({WriteFile("silver/t/v1.parquet", 10)}).ok());
  catalog::RunRecord run;
  run.id = RunId{"in-flight"};
  run.pipeline = "p";
  run.started_at = clock_->Now();
  ASSERT_TRUE(catalog_->InsertRun(run).ok());
  auto held = PipelineLock::TryAcquire(dir_ / "locks", "p");  // as the running process holds it
  ASSERT_TRUE(held.ok()) << held.status();
  // The run read v1 (a concurrent overwrite has removed it since) and uploaded its own file.
  ASSERT_TRUE(Append({WriteFile("silver/t/v2.parquet", 10)}, {}, catalog::WriteOperation::kOverwrite).ok());
  WriteFile("silver/t/part-in-flight-00000-0.parquet", 5);
  clock_->Advance(2h);

  VacuumOptions options;
  options.retain = 0s;
  options.lock_dir = dir_ / "locks";
  auto report = Vacuum(*catalog_, *lake_, *clock_, options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->objects.empty()) << report->objects.front().key;
  EXPECT_EQ(report->runs_in_flight, std::vector<std::string>{"in-flight"});
  EXPECT_TRUE(fs::exists(dir_ / "lake/silver/t/part-in-flight-00000-0.parquet"));
  EXPECT_TRUE(fs::exists(dir_ / "lake/silver/t/v1.parquet"));

  // The process died (its lock is free) without recording the run's end: its upload is garbage.
  held->reset();
  auto after = Vacuum(*catalog_, *lake_, *clock_, options);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_TRUE(after->runs_in_flight.empty());
  std::set<std::string> removed;
  for (const auto& o : after->objects) removed.insert(o.key);
  EXPECT_EQ(removed, (std::set<std::string>{"silver/t/part-in-flight-00000-0.parquet", "silver/t/v1.parquet"}));
  EXPECT_TRUE(fs::exists(dir_ / "lake/silver/t/v2.parquet"));
}

TEST_F(MaintenanceTest, VacuumKeepsTheChunksOfAnInterruptedFullLoad) {
  ASSERT_TRUE(Append({WriteFile("silver/t/v1.parquet", 10)}).ok());
  PendingLoad load;
  load.resume_token = "after-chunk-1";
  load.run_id = RunId{"killed"};
  connectors::StagedFile chunk;
  chunk.key = "silver/t/part-killed-00000-0.parquet";
  chunk.rows = 7;
  chunk.bytes = static_cast<int64_t>(WriteFile(chunk.key, 7).bytes);
  load.files.push_back(chunk);
  catalog::CommitRequest record;
  record.state.push_back({"p/j", kPendingLoadKey, load.ToJson()});
  ASSERT_TRUE(catalog_->Commit(record).ok());
  WriteFile("silver/t/part-dead-00000-0.parquet", 3);  // a run that died before recording anything
  clock_->Set(std::chrono::system_clock::now() + 24h);

  VacuumOptions options;
  options.retain = 0s;
  options.lock_dir = dir_ / "locks";
  auto report = Vacuum(*catalog_, *lake_, *clock_, options);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->objects.size(), 1u);
  EXPECT_EQ(report->objects[0].key, "silver/t/part-dead-00000-0.parquet");
  EXPECT_EQ(report->pending_chunks, 1);
  EXPECT_TRUE(fs::exists(dir_ / "lake" / chunk.key));

  // Once the resumed load has committed (clearing the pending load) or restarted, they are ordinary garbage.
  catalog::CommitRequest cleared;
  cleared.state.push_back({"p/j", kPendingLoadKey, std::nullopt});
  ASSERT_TRUE(catalog_->Commit(cleared).ok());
  auto after = Vacuum(*catalog_, *lake_, *clock_, options);
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_EQ(after->objects.size(), 1u);
  EXPECT_EQ(after->objects[0].key, chunk.key);
}

TEST_F(MaintenanceTest, VacuumRemovesChangeIndexesNoJobUsesOnceOlderThanRetain) {
  // Job p/j's state names its current index; the others were left by runs killed between their
  // upload and their commit (or before deleting the index their commit replaced).
  WriteFile("_sluice/change_index/p/j/current.parquet", 3);
  WriteFile("_sluice/change_index/p/j/uncommitted.parquet", 3);
  WriteFile("_sluice/change_index/p/dropped_job/old.parquet", 3);
  catalog::CommitRequest commit;
  commit.run_id = RunId{"r-state"};
  commit.pipeline = "p";
  commit.job = "j";
  commit.state.push_back({"p/j", "change_index",
                          ChangeIndexRef{"_sluice/change_index/p/j/current.parquet", 3, kPortableRowHash}.ToJson()});
  ASSERT_TRUE(catalog_->Commit(commit).ok());

  VacuumOptions options;
  options.retain = 7 * 24h;
  clock_->Set(std::chrono::system_clock::now());
  auto young = Vacuum(*catalog_, *lake_, *clock_, options);  // a run in flight may still commit them
  ASSERT_TRUE(young.ok()) << young.status();
  EXPECT_TRUE(young->objects.empty());

  clock_->Set(std::chrono::system_clock::now() + 30 * 24h);
  auto report = Vacuum(*catalog_, *lake_, *clock_, options);
  ASSERT_TRUE(report.ok()) << report.status();
  std::set<std::string> removed;
  for (const auto& o : report->objects) {
    removed.insert(o.key);
    EXPECT_EQ(o.reason, "change index no job uses");
  }
  EXPECT_EQ(removed, (std::set<std::string>{"_sluice/change_index/p/j/uncommitted.parquet",
                                            "_sluice/change_index/p/dropped_job/old.parquet"}));
  EXPECT_TRUE(fs::exists(dir_ / "lake/_sluice/change_index/p/j/current.parquet"));
  EXPECT_FALSE(fs::exists(dir_ / "lake/_sluice/change_index/p/j/uncommitted.parquet"));
}

}  // namespace
}  // namespace sluice::pipeline
