// Behaviour every MetadataStore must have. Instantiated per backend (see sqlite_metadata_store_test.cpp).
#include "metadata_store_conformance.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "catalog/metadata_store.hpp"
#include "unit/wait_support.hpp"

namespace sluice::catalog::testing {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST_P(MetadataStoreConformance, FirstCommitCreatesTableAtVersionOne) {
  auto change = Change("raw.birds", WriteOperation::kAppend,
                       {File("raw/birds/a.parquet", 10, 100, {{"_load_date", "2026-11-23"}}),
                        File("raw/birds/b.parquet", 5, 50, {{"_load_date", "2026-11-23"}})});
  change.partition_columns = {"_load_date"};
  EXPECT_THAT(MustCommit(Request({change})), ElementsAre(1));

  auto table = store_->GetTable(Table("raw.birds"));
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_TRUE(table->has_value());
  const TableInfo& info = **table;
  EXPECT_GT(info.id, 0);
  EXPECT_EQ(info.name.ToString(), "raw.birds");
  EXPECT_EQ(info.location, "lake/raw.birds");
  EXPECT_EQ(info.source, "files: incoming/*.csv");
  EXPECT_THAT(info.partition_columns, ElementsAre("_load_date"));
  EXPECT_EQ(info.schema, TwoColumns());
  EXPECT_EQ(info.current_version, 1);
  EXPECT_EQ(info.created_at, kStart);
  EXPECT_EQ(info.updated_at, kStart);
  EXPECT_EQ(info.row_count, 15);
  EXPECT_EQ(info.file_count, 2);
  EXPECT_EQ(info.total_bytes, 150);

  auto files = store_->ListFiles(Table("raw.birds"));
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].path, "raw/birds/a.parquet");
  EXPECT_EQ((*files)[0].rows, 10);
  EXPECT_EQ((*files)[0].bytes, 100);
  EXPECT_EQ((*files)[0].version_added, 1);
  EXPECT_EQ((*files)[0].partition_values,
            (std::vector<std::pair<std::string, std::string>>{{"_load_date", "2026-11-23"}}));
}

TEST_P(MetadataStoreConformance, UnknownTableIsAbsentOrNotFoundWithHint) {
  MustCommit(Request({Change("raw.birdstrikes", WriteOperation::kAppend, {File("a.parquet", 1, 1)})}));
  auto missing = store_->GetTable(Table("raw.nothing"));
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_FALSE(missing->has_value());

  auto files = store_->ListFiles(Table("raw.birdstrike"));
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(files.status().message(), HasSubstr("raw.birdstrike"));
  EXPECT_THAT(files.status().message(), HasSubstr("did you mean raw.birdstrikes"));
  EXPECT_EQ(store_->History(Table("raw.nothing")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->VersionAt(Table("raw.nothing"), kStart).status().code(), StatusCode::kNotFound);
}

TEST_P(MetadataStoreConformance, AppendsAccumulateFilesAndCounts) {
  MustCommit(Request({Change("raw.t", WriteOperation::kAppend, {File("a", 1, 10)})}));
  clock_->Advance(minutes(1));
  EXPECT_THAT(MustCommit(Request({Change("raw.t", WriteOperation::kAppend, {File("b", 2, 20), File("c", 3, 30)})})),
              ElementsAre(2));
  EXPECT_THAT(Paths(Table("raw.t")), ElementsAre("a", "b", "c"));
  auto info = store_->GetTable(Table("raw.t")).value().value();
  EXPECT_EQ(info.current_version, 2);
  EXPECT_EQ(info.row_count, 6);
  EXPECT_EQ(info.file_count, 3);
  EXPECT_EQ(info.total_bytes, 60);
  EXPECT_EQ(info.created_at, kStart);
  EXPECT_EQ(info.updated_at, kStart + minutes(1));
}

TEST_P(MetadataStoreConformance, ListTablesIsOrderedByZoneThenName) {
  MustCommit(Request({Change("silver.b", WriteOperation::kAppend, {}), Change("raw.z", WriteOperation::kAppend, {}),
                      Change("raw.a", WriteOperation::kAppend, {})}));
  auto tables = store_->ListTables();
  ASSERT_TRUE(tables.ok()) << tables.status();
  std::vector<std::string> names;
  for (const auto& t : *tables) names.push_back(t.name.ToString());
  EXPECT_THAT(names, ElementsAre("raw.a", "raw.z", "silver.b"));
}

TEST_P(MetadataStoreConformance, OverwriteAllReplacesEveryCurrentFile) {
  MustCommit(Request({Change("raw.t", WriteOperation::kAppend, {File("a", 1, 10), File("b", 2, 20)})}));
  auto overwrite = Change("raw.t", WriteOperation::kOverwrite, {File("c", 7, 70)});
  overwrite.remove_all_current = true;
  EXPECT_THAT(MustCommit(Request({overwrite})), ElementsAre(2));
  EXPECT_THAT(Paths(Table("raw.t")), ElementsAre("c"));
  auto info = store_->GetTable(Table("raw.t")).value().value();
  EXPECT_EQ(info.row_count, 7);
  EXPECT_EQ(info.file_count, 1);
  EXPECT_EQ(info.total_bytes, 70);
  auto history = store_->History(Table("raw.t")).value();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].operation, "overwrite");
  EXPECT_EQ(history[1].files_added, 1);
  EXPECT_EQ(history[1].files_removed, 2);
  EXPECT_EQ(history[1].rows_added, 7);
  EXPECT_EQ(history[1].rows_removed, 3);
}

TEST_P(MetadataStoreConformance, OverwriteWithoutRemovalsReplacesOnlyTheAddedFilesPartitions) {
  MustCommit(Request({Change("raw.t", WriteOperation::kAppend,
                             {File("d1/a", 1, 1, {{"d", "1"}}), File("d2/b", 2, 2, {{"d", "2"}}),
                              File("d2/c", 3, 3, {{"d", "2"}}), File("d3/x", 4, 4, {{"d", "3"}, {"h", "0"}})})}));
  auto overwrite = Change("raw.t", WriteOperation::kOverwrite,
                          {File("d2/new", 10, 10, {{"d", "2"}}), File("d4/new", 1, 1, {{"d", "4"}})});
  EXPECT_THAT(MustCommit(Request({overwrite})), ElementsAre(2));
  // d=3 stays: its partition_values vector ({d=3,h=0}) is not equal to any added file's.
  EXPECT_THAT(Paths(Table("raw.t")), ElementsAre("d1/a", "d3/x", "d2/new", "d4/new"));
  auto info = store_->GetTable(Table("raw.t")).value().value();
  EXPECT_EQ(info.row_count, 1 + 4 + 10 + 1);
  EXPECT_EQ(info.file_count, 4);
}

TEST_P(MetadataStoreConformance, RemovePartitionDropsFilesHavingThosePartitionValues) {
  MustCommit(
      Request({Change("raw.t", WriteOperation::kAppend,
                      {File("d1h0", 1, 1, {{"d", "1"}, {"h", "0"}}), File("d1h1", 1, 1, {{"d", "1"}, {"h", "1"}}),
                       File("d2h0", 1, 1, {{"d", "2"}, {"h", "0"}})})}));
  auto overwrite = Change("raw.t", WriteOperation::kOverwrite, {File("d1new", 5, 5, {{"d", "1"}, {"h", "9"}})});
  overwrite.remove_partition = {{"d", "1"}};
  MustCommit(Request({overwrite}));
  EXPECT_THAT(Paths(Table("raw.t")), ElementsAre("d2h0", "d1new"));

  auto drop = Change("raw.t", WriteOperation::kDelete, {});
  drop.remove_partition = {{"h", "0"}};
  MustCommit(Request({drop}));
  EXPECT_THAT(Paths(Table("raw.t")), ElementsAre("d1new"));
}

TEST_P(MetadataStoreConformance, CompactReplacesTheNamedFiles) {
  MustCommit(
      Request({Change("raw.t", WriteOperation::kAppend, {File("a", 1, 10), File("b", 2, 20), File("c", 3, 30)})}));
  auto compact = Change("raw.t", WriteOperation::kCompact, {File("ab", 3, 25)});
  compact.removed_paths = {"a", "b"};
  MustCommit(Request({compact}));
  EXPECT_THAT(Paths(Table("raw.t")), ElementsAre("c", "ab"));
  auto info = store_->GetTable(Table("raw.t")).value().value();
  EXPECT_EQ(info.row_count, 6);
  EXPECT_EQ(info.file_count, 2);
  EXPECT_EQ(info.total_bytes, 55);
  auto history = store_->History(Table("raw.t")).value();
  EXPECT_EQ(history.back().operation, "compact");
  EXPECT_EQ(history.back().files_removed, 2);
}

TEST_P(MetadataStoreConformance, RemovingAFileTheVersionDoesNotReferenceIsAConflict) {
  MustCommit(Request({Change("raw.t", WriteOperation::kAppend, {File("a", 1, 1)})}));
  auto remove = Change("raw.t", WriteOperation::kDelete, {});
  remove.removed_paths = {"a"};
  MustCommit(Request({remove}));
  auto again = store_->Commit(Request({remove}));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kConflict);
  EXPECT_TRUE(again.status().retryable());
  EXPECT_THAT(again.status().message(), HasSubstr("'a'"));
  EXPECT_EQ(store_->GetTable(Table("raw.t")).value()->current_version, 2);
}

TEST_P(MetadataStoreConformance, InvalidChangesAreRejected) {
  MustCommit(Request({Change("raw.t", WriteOperation::kAppend, {File("a", 1, 1)})}));
  auto code_of = [&](const CommitRequest& r) { return store_->Commit(r).status().code(); };

  EXPECT_EQ(code_of(Request({Change("raw.t", WriteOperation::kAppend, {File("a", 1, 1)})})),
            StatusCode::kInvalidArgument)
      << "re-adding a referenced path";
  EXPECT_EQ(code_of(Request({Change("raw.t", WriteOperation::kAppend, {File("x", 1, 1), File("x", 1, 1)})})),
            StatusCode::kInvalidArgument)
      << "same path twice";
  auto append_removing = Change("raw.t", WriteOperation::kAppend, {});
  append_removing.removed_paths = {"a"};
  EXPECT_EQ(code_of(Request({append_removing})), StatusCode::kInvalidArgument);
  EXPECT_EQ(
      code_of(Request({Change("raw.t", WriteOperation::kAppend, {}), Change("raw.t", WriteOperation::kAppend, {})})),
      StatusCode::kInvalidArgument)
      << "one table twice in a commit";
  auto bad_name = Change("raw.t", WriteOperation::kAppend, {});
  bad_name.table = TableName{"raw", "has space"};
  EXPECT_EQ(code_of(Request({bad_name})), StatusCode::kInvalidArgument);
  auto no_location = Change("raw.new", WriteOperation::kAppend, {});
  no_location.location.clear();
  EXPECT_EQ(code_of(Request({no_location})), StatusCode::kInvalidArgument);
  auto duplicate_column = Change("raw.t", WriteOperation::kAppend, {});
  duplicate_column.schema.columns.push_back({"id", "INTEGER", true});
  EXPECT_EQ(code_of(Request({duplicate_column})), StatusCode::kInvalidArgument);
  auto negative = Change("raw.t", WriteOperation::kAppend, {File("y", -1, 1)});
  EXPECT_EQ(code_of(Request({negative})), StatusCode::kInvalidArgument);

  EXPECT_EQ(store_->GetTable(Table("raw.t")).value()->current_version, 1);
  EXPECT_FALSE(store_->GetTable(Table("raw.new")).value().has_value());
}

TEST_P(MetadataStoreConformance, ExpectedVersionMismatchIsAConflictNamingTableAndVersions) {
  MustCommit(Request({Change("raw.t", WriteOperation::kAppend, {File("a", 1, 1)})}));
  MustCommit(Request({Change("raw.t", WriteOperation::kAppend, {File("b", 1, 1)})}));
  auto stale = Change("raw.t", WriteOperation::kOverwrite, {File("c", 1, 1)});
  stale.remove_all_current = true;
  stale.expected_version = 1;
  auto result = store_->Commit(Request({stale}));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kConflict);
  EXPECT_TRUE(result.status().retryable());
  EXPECT_THAT(result.status().message(), HasSubstr("raw.t"));
  EXPECT_THAT(result.status().message(), HasSubstr("expected version 1"));
  EXPECT_THAT(result.status().message(), HasSubstr("at version 2"));
  EXPECT_THAT(Paths(Table("raw.t")), ElementsAre("a", "b"));

  stale.expected_version = 2;
  EXPECT_THAT(MustCommit(Request({stale})), ElementsAre(3));
  EXPECT_THAT(Paths(Table("raw.t")), ElementsAre("c"));
}

TEST_P(MetadataStoreConformance, ExpectedVersionZeroMeansTheTableMustNotExist) {
  auto create = Change("raw.t", WriteOperation::kAppend, {File("a", 1, 1)});
  create.expected_version = 0;
  EXPECT_THAT(MustCommit(Request({create})), ElementsAre(1));
  auto again = store_->Commit(Request({create}));
  EXPECT_EQ(again.status().code(), StatusCode::kConflict);

  auto missing = Change("raw.other", WriteOperation::kAppend, {});
  missing.expected_version = 3;
  auto result = store_->Commit(Request({missing}));
  EXPECT_EQ(result.status().code(), StatusCode::kConflict);
  EXPECT_THAT(result.status().message(), HasSubstr("does not exist"));
}

TEST_P(MetadataStoreConformance, AFailedCommitChangesNothing) {
  MustCommit(Request({Change("raw.first", WriteOperation::kAppend, {File("f1", 1, 1)}),
                      Change("raw.second", WriteOperation::kAppend, {File("s1", 1, 1)})}));
  CommitRequest setup;
  setup.state = {{"birds/load", "watermark", "10"}};
  setup.loaded_files = {{"birds/load", "in/old.csv", 5, 6, "h0"}};
  MustCommit(setup);

  auto first = Change("raw.first", WriteOperation::kAppend, {File("f2", 1, 1)});
  auto created = Change("raw.created", WriteOperation::kAppend, {File("n1", 1, 1)});
  auto second = Change("raw.second", WriteOperation::kAppend, {File("s2", 1, 1)});
  second.expected_version = 7;
  CommitRequest request = Request({first, created, second});
  request.state = {{"birds/load", "watermark", "20"}, {"birds/load", "new_key", "x"}};
  request.loaded_files = {{"birds/load", "in/new.csv", 1, 2, "h1"}};
  request.forget_loaded_scopes = {"birds/load"};
  auto result = store_->Commit(request);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kConflict);
  EXPECT_THAT(result.status().message(), HasSubstr("raw.second"));

  auto first_info = store_->GetTable(Table("raw.first")).value().value();
  EXPECT_EQ(first_info.current_version, 1);
  EXPECT_EQ(first_info.file_count, 1);
  EXPECT_THAT(Paths(Table("raw.first")), ElementsAre("f1"));
  EXPECT_EQ(store_->History(Table("raw.first")).value().size(), 1u);
  EXPECT_FALSE(store_->GetTable(Table("raw.created")).value().has_value());
  EXPECT_EQ(store_->GetState("birds/load", "watermark").value(), std::optional<std::string>("10"));
  EXPECT_FALSE(store_->GetState("birds/load", "new_key").value().has_value());
  auto loaded = store_->LoadedFiles("birds/load").value();
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].path, "in/old.csv");
  EXPECT_THAT(store_->AllReferencedPaths().value(), ElementsAre("f1", "s1"));
}

TEST_P(MetadataStoreConformance, ListFilesAsOfTravelsBackInTime) {
  MustCommit(Request({Change("raw.t", WriteOperation::kAppend, {File("a", 1, 1)})}));
  MustCommit(Request({Change("raw.t", WriteOperation::kAppend, {File("b", 1, 1)})}));
  auto overwrite = Change("raw.t", WriteOperation::kOverwrite, {File("c", 1, 1)});
  overwrite.remove_all_current = true;
  MustCommit(Request({overwrite}));
  auto compact = Change("raw.t", WriteOperation::kCompact, {File("d", 1, 1)});
  compact.removed_paths = {"c"};
  MustCommit(Request({compact}));

  EXPECT_THAT(Paths(Table("raw.t"), 0), IsEmpty());
  EXPECT_THAT(Paths(Table("raw.t"), 1), ElementsAre("a"));
  EXPECT_THAT(Paths(Table("raw.t"), 2), ElementsAre("a", "b"));
  EXPECT_THAT(Paths(Table("raw.t"), 3), ElementsAre("c"));
  EXPECT_THAT(Paths(Table("raw.t"), 4), ElementsAre("d"));
  EXPECT_THAT(Paths(Table("raw.t")), ElementsAre("d"));
  auto future = store_->ListFiles(Table("raw.t"), 5);
  ASSERT_FALSE(future.ok());
  EXPECT_EQ(future.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(future.status().message(), HasSubstr("versions 1 to 4"));
  EXPECT_FALSE(store_->ListFiles(Table("raw.t"), -1).ok());
}

TEST_P(MetadataStoreConformance, VersionAtFindsTheLatestVersionCommittedByThen) {
  MustCommit(Request({Change("raw.t", WriteOperation::kAppend, {File("a", 1, 1)})}));
  clock_->Advance(hours(1));
  MustCommit(Request({Change("raw.t", WriteOperation::kAppend, {File("b", 1, 1)})}));
  MustCommit(Request({Change("raw.t", WriteOperation::kAppend, {File("c", 1, 1)})}));

  auto at = [&](TimePoint t) { return store_->VersionAt(Table("raw.t"), t).value(); };
  EXPECT_EQ(at(kStart - seconds(1)), std::nullopt);
  EXPECT_EQ(at(kStart), std::optional<int64_t>(1));
  EXPECT_EQ(at(kStart + minutes(59)), std::optional<int64_t>(1));
  EXPECT_EQ(at(kStart + hours(1)), std::optional<int64_t>(3));
  EXPECT_EQ(at(kStart + hours(100)), std::optional<int64_t>(3));
}

TEST_P(MetadataStoreConformance, CommitTimesNeverGoBackwardsWithinATable) {
  MustCommit(Request({Change("raw.t", WriteOperation::kAppend, {File("a", 1, 1)})}));
  clock_->Set(kStart - hours(2));  // a writer whose clock lags
  MustCommit(Request({Change("raw.t", WriteOperation::kAppend, {File("b", 1, 1)})}));
  auto history = store_->History(Table("raw.t")).value();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_GE(history[1].committed_at, history[0].committed_at);
  EXPECT_EQ(store_->VersionAt(Table("raw.t"), kStart).value(), std::optional<int64_t>(2));
}

TEST_P(MetadataStoreConformance, HistoryRecordsWhoWhenWhatAndSchemaChanges) {
  MustCommit(Request({Change("raw.t", WriteOperation::kAppend, {File("a", 4, 40)})}));

  clock_->Advance(minutes(5));
  auto widen = Change("raw.t", WriteOperation::kAppend, {File("b", 6, 60)});
  widen.schema = Schema{{{"id", "BIGINT", false}, {"name", "VARCHAR", true}, {"score", "DOUBLE", true}}};
  widen.schema.columns[1].type = "TEXT";
  CommitRequest second = Request({widen});
  second.run_id = RunId{"20261123T110100Z-def456"};
  second.job = "reload";
  MustCommit(second);

  clock_->Advance(minutes(5));
  auto no_schema = Change("raw.t", WriteOperation::kDelete, {});
  no_schema.schema = Schema{};  // no columns: unchanged
  no_schema.removed_paths = {"a"};
  MustCommit(Request({no_schema}));

  auto narrow = Change("raw.t", WriteOperation::kAppend, {});
  narrow.schema = Schema{{{"id", "BIGINT", false}, {"name", "TEXT", true}}};
  MustCommit(Request({narrow}));

  auto history = store_->History(Table("raw.t"));
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 4u);
  const auto& v = *history;
  EXPECT_EQ(v[0].version, 1);
  EXPECT_EQ(v[0].committed_at, kStart);
  EXPECT_EQ(v[0].run_id.value, "20261123T100000Z-abc123");
  EXPECT_EQ(v[0].pipeline, "birds");
  EXPECT_EQ(v[0].job, "load");
  EXPECT_EQ(v[0].operation, "append");
  EXPECT_EQ(v[0].files_added, 1);
  EXPECT_EQ(v[0].rows_added, 4);
  EXPECT_EQ(v[0].schema, TwoColumns());
  EXPECT_EQ(v[0].schema_change, "");

  EXPECT_EQ(v[1].version, 2);
  EXPECT_EQ(v[1].committed_at, kStart + minutes(5));
  EXPECT_EQ(v[1].run_id.value, "20261123T110100Z-def456");
  EXPECT_EQ(v[1].job, "reload");
  EXPECT_EQ(v[1].schema, widen.schema);
  EXPECT_EQ(v[1].schema_change, "type of name VARCHAR -> TEXT; added column score (DOUBLE)");

  EXPECT_EQ(v[2].operation, "delete");
  EXPECT_EQ(v[2].files_removed, 1);
  EXPECT_EQ(v[2].rows_removed, 4);
  EXPECT_EQ(v[2].schema, widen.schema);
  EXPECT_EQ(v[2].schema_change, "");

  EXPECT_EQ(v[3].schema_change, "removed column score");
  EXPECT_EQ(store_->GetTable(Table("raw.t")).value()->schema, narrow.schema);
}

TEST_P(MetadataStoreConformance, StateIsSetReplacedAndDeletedWithTheCommit) {
  EXPECT_FALSE(store_->GetState("p/j", "watermark").value().has_value());
  CommitRequest first = Request({Change("raw.t", WriteOperation::kAppend, {File("a", 1, 1)})});
  first.state = {{"p/j", "watermark", "2026-11-23T00:00:00"}, {"p/j", "lsn", "0/16B3748"}, {"other", "k", "v"}};
  MustCommit(first);
  EXPECT_EQ(store_->GetState("p/j", "watermark").value(), std::optional<std::string>("2026-11-23T00:00:00"));
  using Entries = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(store_->ListState("p/j").value(), (Entries{{"lsn", "0/16B3748"}, {"watermark", "2026-11-23T00:00:00"}}));

  CommitRequest state_only;  // no tables: state can advance on its own
  state_only.state = {{"p/j", "watermark", "2026-11-24T00:00:00"}, {"p/j", "lsn", std::nullopt}};
  auto result = store_->Commit(state_only);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->versions, IsEmpty());
  EXPECT_EQ(store_->ListState("p/j").value(), (Entries{{"watermark", "2026-11-24T00:00:00"}}));
  EXPECT_EQ(store_->ListState("other").value(), (Entries{{"k", "v"}}));
  EXPECT_THAT(store_->ListState("nobody").value(), IsEmpty());
  EXPECT_EQ(store_->StateWithKey("watermark").value(), (Entries{{"p/j", "2026-11-24T00:00:00"}}));
  EXPECT_EQ(store_->StateWithKey("k").value(), (Entries{{"other", "v"}}));
  EXPECT_THAT(store_->StateWithKey("lsn").value(), IsEmpty());

  CommitRequest empty_key;
  empty_key.state = {{"p/j", "", "x"}};
  EXPECT_EQ(store_->Commit(empty_key).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(MetadataStoreConformance, WindowJobsAreUpsertedWithTheirStateAndListedInOrder) {
  EXPECT_THAT(store_->ListWindowJobs().value(), IsEmpty());
  WindowJob added;
  added.pipeline = "deposits";
  added.job = "loans";
  added.source_table = "public.loans";
  added.target_table = "loans";
  added.column = "booked_at";
  added.first_start = "2018-11-04 00:00:00";
  added.first_stop = "2018-11-05 00:00:00";
  added.step = "1 day";
  added.partition_by = "branch";
  added.lower_bound = 1;
  added.upper_bound = 100;
  added.num_partitions = 4;
  ASSERT_TRUE(store_->PutWindowJob(added, {}).ok());
  WindowJob override_only;  // a job of the pipeline file: only its step is overridden
  override_only.pipeline = "deposits";
  override_only.job = "deposits";
  override_only.step = "2 days";
  ASSERT_TRUE(store_->PutWindowJob(override_only, {{"deposits/deposits", "source", R"({"window_start":"a"})"}}).ok());
  WindowJob other = override_only;
  other.pipeline = "another";
  ASSERT_TRUE(store_->PutWindowJob(other, {}).ok());

  auto all = store_->ListWindowJobs().value();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].pipeline, "another");
  EXPECT_EQ(all[1].job, "deposits");
  EXPECT_FALSE(all[1].catalog_only());
  EXPECT_EQ(all[1].step, "2 days");
  EXPECT_FALSE(all[1].num_partitions.has_value());
  EXPECT_EQ(all[1].created_at, kStart);
  const WindowJob& loans = all[2];
  EXPECT_TRUE(loans.catalog_only());
  EXPECT_EQ(loans.source_table, "public.loans");
  EXPECT_EQ(loans.target_table, "loans");
  EXPECT_EQ(loans.column, "booked_at");
  EXPECT_EQ(loans.first_start, "2018-11-04 00:00:00");
  EXPECT_EQ(loans.first_stop, "2018-11-05 00:00:00");
  EXPECT_EQ(loans.partition_by, "branch");
  EXPECT_EQ(loans.lower_bound, std::optional<int64_t>(1));
  EXPECT_EQ(loans.upper_bound, std::optional<int64_t>(100));
  EXPECT_EQ(loans.num_partitions, std::optional<int64_t>(4));
  EXPECT_EQ(store_->GetState("deposits/deposits", "source").value(),
            std::optional<std::string>(R"({"window_start":"a"})"));

  // Replacing keeps one row per (pipeline, job) and its creation time.
  clock_->Advance(std::chrono::seconds(5));
  added.num_partitions = 8;
  added.lower_bound.reset();
  ASSERT_TRUE(store_->PutWindowJob(added, {}).ok());
  auto deposits = Open()->ListWindowJobs("deposits").value();
  ASSERT_EQ(deposits.size(), 2u);
  EXPECT_EQ(deposits[1].num_partitions, std::optional<int64_t>(8));
  EXPECT_FALSE(deposits[1].lower_bound.has_value());
  EXPECT_EQ(deposits[1].created_at, kStart);
  EXPECT_EQ(deposits[1].updated_at, kStart + std::chrono::seconds(5));

  // An invalid state update rejects the whole change.
  added.num_partitions = 16;
  EXPECT_EQ(store_->PutWindowJob(added, {{"", "source", "x"}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ListWindowJobs("deposits").value()[1].num_partitions, std::optional<int64_t>(8));
  WindowJob nameless;
  EXPECT_EQ(store_->PutWindowJob(nameless, {}).code(), StatusCode::kInvalidArgument);
}

TEST_P(MetadataStoreConformance, RemovingAWindowJobAppliesItsStateUpdatesInTheSameTransaction) {
  WindowJob added;
  added.pipeline = "deposits";
  added.job = "loans";
  added.source_table = "public.loans";
  added.column = "booked_at";
  ASSERT_TRUE(store_->PutWindowJob(added, {{"deposits/loans", "source", R"({"window_start":"a"})"}}).ok());
  WindowJob kept = added;
  kept.job = "leases";
  ASSERT_TRUE(store_->PutWindowJob(kept, {{"deposits/leases", "source", "{}"}}).ok());

  // An invalid state update, or a job that is not there, changes nothing.
  EXPECT_EQ(store_->RemoveWindowJob("deposits", "loans", {{"", "source", std::nullopt}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->RemoveWindowJob("deposits", "loan", {{"deposits/loans", "source", std::nullopt}}).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store_->ListWindowJobs("deposits").value().size(), 2u);
  EXPECT_TRUE(store_->GetState("deposits/loans", "source").value().has_value());

  ASSERT_TRUE(store_->RemoveWindowJob("deposits", "loans", {{"deposits/loans", "source", std::nullopt}}).ok());
  auto left = Open()->ListWindowJobs("deposits").value();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].job, "leases");
  EXPECT_FALSE(store_->GetState("deposits/loans", "source").value().has_value());
  EXPECT_EQ(store_->GetState("deposits/leases", "source").value(), std::optional<std::string>("{}"));
}

TEST_P(MetadataStoreConformance, LoadedFilesAreUpsertedAndForgottenPerScope) {
  CommitRequest first;
  first.loaded_files = {
      {"p/j", "in/b.csv", 10, 100, "hb"}, {"p/j", "in/a.csv", 20, 200, "ha"}, {"p/other", "in/a.csv", 1, 1, "x"}};
  MustCommit(first);
  auto loaded = store_->LoadedFiles("p/j").value();
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded[0].path, "in/a.csv");
  EXPECT_EQ(loaded[0].scope, "p/j");
  EXPECT_EQ(loaded[0].size, 20);
  EXPECT_EQ(loaded[0].mtime_us, 200);
  EXPECT_EQ(loaded[0].content_hash, "ha");

  CommitRequest changed;
  changed.loaded_files = {{"p/j", "in/a.csv", 21, 201, "ha2"}};
  MustCommit(changed);
  loaded = store_->LoadedFiles("p/j").value();
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded[0].size, 21);
  EXPECT_EQ(loaded[0].content_hash, "ha2");

  CommitRequest refresh;  // --full-refresh: forget, then record what this run read
  refresh.forget_loaded_scopes = {"p/j"};
  refresh.loaded_files = {{"p/j", "in/c.csv", 3, 3, "hc"}};
  MustCommit(refresh);
  loaded = store_->LoadedFiles("p/j").value();
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].path, "in/c.csv");
  EXPECT_EQ(store_->LoadedFiles("p/other").value().size(), 1u);
}

TEST_P(MetadataStoreConformance, VacuumSeesReferencedAndExpiredPaths) {
  MustCommit(Request({Change("raw.t", WriteOperation::kAppend, {File("a", 1, 1), File("b", 1, 1)}),
                      Change("raw.u", WriteOperation::kAppend, {File("u1", 1, 1)})}));
  clock_->Advance(hours(1));
  auto overwrite = Change("raw.t", WriteOperation::kOverwrite, {File("c", 1, 1)});
  overwrite.remove_all_current = true;
  MustCommit(Request({overwrite}));

  EXPECT_THAT(store_->AllReferencedPaths().value(), ElementsAre("a", "b", "c", "u1"));
  EXPECT_THAT(store_->PathsRemovedBefore(kStart + minutes(30)).value(), IsEmpty());
  EXPECT_THAT(store_->PathsRemovedBefore(kStart + hours(1)).value(), IsEmpty()) << "strictly before";
  EXPECT_THAT(store_->PathsRemovedBefore(kStart + hours(2)).value(), ElementsAre("a", "b"));
}

RunRecord MakeRun(std::string id, std::string pipeline, TimePoint started) {
  RunRecord run;
  run.id = RunId{std::move(id)};
  run.pipeline = std::move(pipeline);
  run.env = "dev";
  run.trigger = "manual";
  run.started_at = started;
  return run;
}

TEST_P(MetadataStoreConformance, RunsAreInsertedUpdatedListedAndFound) {
  ASSERT_TRUE(store_->InsertRun(MakeRun("20261123T100000Z-aaaa11", "birds", kStart)).ok());
  ASSERT_TRUE(store_->InsertRun(MakeRun("20261123T110000Z-bbbb22", "orders", kStart + hours(1))).ok());
  ASSERT_TRUE(store_->InsertRun(MakeRun("20261123T120000Z-cccc33", "birds", kStart + hours(2))).ok());

  auto ids = [](const std::vector<RunRecord>& runs) {
    std::vector<std::string> out;
    for (const auto& r : runs) out.push_back(r.id.value);
    return out;
  };
  EXPECT_THAT(ids(store_->ListRuns(0).value()),
              ElementsAre("20261123T120000Z-cccc33", "20261123T110000Z-bbbb22", "20261123T100000Z-aaaa11"));
  EXPECT_THAT(ids(store_->ListRuns(2).value()), ElementsAre("20261123T120000Z-cccc33", "20261123T110000Z-bbbb22"));
  EXPECT_THAT(ids(store_->ListRuns(10, "birds").value()),
              ElementsAre("20261123T120000Z-cccc33", "20261123T100000Z-aaaa11"));
  EXPECT_THAT(ids(store_->RunningRuns().value()),
              ElementsAre("20261123T100000Z-aaaa11", "20261123T110000Z-bbbb22", "20261123T120000Z-cccc33"));

  RunRecord finished = MakeRun("20261123T110000Z-bbbb22", "orders", kStart + hours(1));
  finished.job = "load";
  finished.status = RunStatus::kFailed;
  finished.finished_at = kStart + hours(1) + seconds(42);
  finished.rows_read = 100;
  finished.rows_written = 90;
  finished.rows_rejected = 10;
  finished.bytes_written = 4096;
  finished.files_written = 2;
  finished.error = "source file in/x.csv line 3: bad quote";
  finished.details_json = R"({"jobs":{"load":{"rows":90}}})";
  ASSERT_TRUE(store_->UpdateRun(finished).ok());

  auto got = store_->GetRun("20261123T110000Z-bbbb22");
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  const RunRecord& r = **got;
  EXPECT_EQ(r.pipeline, "orders");
  EXPECT_EQ(r.job, "load");
  EXPECT_EQ(r.env, "dev");
  EXPECT_EQ(r.trigger, "manual");
  EXPECT_EQ(r.status, RunStatus::kFailed);
  EXPECT_EQ(r.started_at, kStart + hours(1));
  EXPECT_EQ(r.finished_at, std::optional<TimePoint>(kStart + hours(1) + seconds(42)));
  EXPECT_EQ(r.rows_read, 100);
  EXPECT_EQ(r.rows_written, 90);
  EXPECT_EQ(r.rows_rejected, 10);
  EXPECT_EQ(r.bytes_written, 4096);
  EXPECT_EQ(r.files_written, 2);
  EXPECT_EQ(r.error, "source file in/x.csv line 3: bad quote");
  EXPECT_EQ(r.details_json, R"({"jobs":{"load":{"rows":90}}})");
  EXPECT_FALSE(store_->GetRun("20261123T100000Z-aaaa11").value()->finished_at.has_value());
  EXPECT_THAT(ids(store_->RunningRuns().value()), ElementsAre("20261123T100000Z-aaaa11", "20261123T120000Z-cccc33"))
      << "oldest first, finished ones left out";

  // Prefix lookup.
  auto by_prefix = store_->GetRun("20261123T12");
  ASSERT_TRUE(by_prefix.ok()) << by_prefix.status();
  ASSERT_TRUE(by_prefix->has_value());
  EXPECT_EQ((*by_prefix)->id.value, "20261123T120000Z-cccc33");
  auto ambiguous = store_->GetRun("20261123T1");
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_EQ(ambiguous.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(ambiguous.status().message(), HasSubstr("20261123T100000Z-aaaa11"));
  EXPECT_FALSE(store_->GetRun("2027").value().has_value());
  EXPECT_FALSE(store_->GetRun("").ok());
  EXPECT_FALSE(store_->GetRun("20261123T1_").value().has_value()) << "'_' is not a wildcard";

  EXPECT_EQ(store_->InsertRun(MakeRun("20261123T100000Z-aaaa11", "birds", kStart)).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->UpdateRun(MakeRun("nope", "birds", kStart)).code(), StatusCode::kNotFound);
  RunRecord bad_json = MakeRun("20261123T130000Z-dddd44", "birds", kStart);
  bad_json.details_json = "{not json";
  EXPECT_EQ(store_->InsertRun(bad_json).code(), StatusCode::kInvalidArgument);
}

TEST_P(MetadataStoreConformance, EveryRunStatusRoundTrips) {
  const RunStatus all[] = {RunStatus::kQueued, RunStatus::kRunning,     RunStatus::kSucceeded, RunStatus::kNoChanges,
                           RunStatus::kFailed, RunStatus::kInterrupted, RunStatus::kCancelled, RunStatus::kSkipped};
  int i = 0;
  for (RunStatus status : all) {
    RunRecord run = MakeRun(fmt::format("run-{}", i), "p", kStart + seconds(i));
    run.status = status;
    ASSERT_TRUE(store_->InsertRun(run).ok());
    EXPECT_EQ(store_->GetRun(run.id.value).value()->status, status) << RunStatusName(status);
    ++i;
  }
}

TEST_P(MetadataStoreConformance, ASecondInstanceSeesCommittedData) {
  MustCommit(Request({Change("raw.t", WriteOperation::kAppend, {File("a", 1, 1)})}));
  auto other = Open();
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->GetTable(Table("raw.t")).value()->current_version, 1);
  auto result = other->Commit(Request({Change("raw.t", WriteOperation::kAppend, {File("b", 1, 1)})}));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(Paths(Table("raw.t")), ElementsAre("a", "b"));
  EXPECT_EQ(other->Describe(), store_->Describe());
}

// Two writers (separate store instances, as two processes would have) each make 50 appends to their own
// table and 50 to a shared one, all at once. Every commit must land with a unique, gapless version.
TEST_P(MetadataStoreConformance, ConcurrentWritersGetUniqueGaplessVersions) {
  constexpr int kCommitsPerTable = 50;
  std::unique_ptr<MetadataStore> stores[2] = {Open(), Open()};
  ASSERT_NE(stores[0], nullptr);
  ASSERT_NE(stores[1], nullptr);
  std::mutex mutex;
  std::vector<std::string> errors;
  std::map<std::string, std::vector<int64_t>> versions;  // table -> versions returned to the writers
  std::atomic<bool> go{false};

  auto writer = [&](int w) {
    try {
      while (!go.load()) std::this_thread::yield();
      std::string own = fmt::format("raw.writer{}", w);
      for (int i = 0; i < kCommitsPerTable; ++i) {
        for (const std::string& table : {own, std::string("raw.shared")}) {
          auto change = Change(table.c_str(), WriteOperation::kAppend,
                               {File(fmt::format("{}/w{}-{}.parquet", table, w, i), 1, 10)});
          auto request = Request({change});
          request.state = {{table, fmt::format("writer{}", w), std::to_string(i)}};
          auto result = stores[w]->Commit(request);
          std::lock_guard lock(mutex);
          if (!result.ok()) {
            errors.push_back(result.status().ToString());
          } else {
            versions[table].push_back(result->versions.at(0));
          }
        }
      }
    } catch (const std::exception& e) {
      std::lock_guard lock(mutex);
      errors.push_back(e.what());
    }
  };
  std::thread first(writer, 0), second(writer, 1);
  go = true;
  first.join();
  second.join();
  ASSERT_THAT(errors, IsEmpty());

  auto expect_gapless = [&](const char* table, int64_t count) {
    std::set<int64_t> unique(versions[table].begin(), versions[table].end());
    EXPECT_EQ(static_cast<int64_t>(versions[table].size()), count) << table;
    EXPECT_EQ(static_cast<int64_t>(unique.size()), count) << table << ": a version was handed out twice";
    EXPECT_EQ(*unique.begin(), 1) << table;
    EXPECT_EQ(*unique.rbegin(), count) << table;
    auto history = store_->History(Table(table)).value();
    ASSERT_EQ(static_cast<int64_t>(history.size()), count) << table;
    for (int64_t i = 0; i < count; ++i) EXPECT_EQ(history[i].version, i + 1) << table;
    auto info = store_->GetTable(Table(table)).value().value();
    EXPECT_EQ(info.current_version, count);
    EXPECT_EQ(info.file_count, count);
    EXPECT_EQ(info.row_count, count);
    EXPECT_EQ(static_cast<int64_t>(Paths(Table(table)).size()), count);
  };
  expect_gapless("raw.writer0", kCommitsPerTable);
  expect_gapless("raw.writer1", kCommitsPerTable);
  expect_gapless("raw.shared", 2 * kCommitsPerTable);
  EXPECT_EQ(store_->GetState("raw.shared", "writer0").value(), std::optional<std::string>("49"));
  EXPECT_EQ(store_->GetState("raw.shared", "writer1").value(), std::optional<std::string>("49"));
}

// Optimistic read-modify-write: each writer overwrites the table expecting the version it read and retries
// on Conflict. No update may be lost: the final version counts every successful commit.
TEST_P(MetadataStoreConformance, OptimisticWritersRetryOnConflictAndLoseNothing) {
  MustCommit(Request({Change("raw.counter", WriteOperation::kAppend, {File("v0", 0, 0)})}));
  constexpr int kUpdatesPerWriter = 15;
  std::unique_ptr<MetadataStore> stores[2] = {Open(), Open()};
  std::atomic<int> conflicts{0}, failures{0};
  auto writer = [&](int w) {
    for (int i = 0; i < kUpdatesPerWriter;) {
      auto table = stores[w]->GetTable(Table("raw.counter"));
      if (!table.ok() || !table->has_value()) {
        ++failures;
        return;
      }
      auto files = stores[w]->ListFiles(Table("raw.counter"));
      if (!files.ok() || files->size() != 1) {
        ++failures;
        return;
      }
      int64_t read_version = (*table)->current_version;
      auto change = Change("raw.counter", WriteOperation::kOverwrite,
                           {File(fmt::format("w{}-{}", w, i), files->front().rows + 1, 1)});
      change.remove_all_current = true;
      change.expected_version = read_version;
      auto result = stores[w]->Commit(Request({change}));
      if (result.ok()) {
        ++i;
      } else if (result.status().code() == StatusCode::kConflict) {
        ++conflicts;
      } else {
        ++failures;
        return;
      }
    }
  };
  std::thread first(writer, 0), second(writer, 1);
  first.join();
  second.join();
  EXPECT_EQ(failures.load(), 0);
  auto info = store_->GetTable(Table("raw.counter")).value().value();
  EXPECT_EQ(info.current_version, 1 + 2 * kUpdatesPerWriter);
  EXPECT_EQ(info.row_count, 2 * kUpdatesPerWriter) << "every increment must survive (lost update otherwise)";
  EXPECT_EQ(info.file_count, 1);
}

// A writer killed at an arbitrary moment leaves a catalog in which data and job state agree: each commit
// adds one file and sets the watermark to its version, so after the crash they must still match.
TEST_P(MetadataStoreConformance, AWriterKilledMidCommitLeavesAConsistentCatalog) {
  MustCommit(Request({Change("raw.t", WriteOperation::kAppend, {File("seed", 1, 1)})}));
  store_.reset();
  pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    auto store = OpenMetadataStore(location_, std::make_shared<SystemClock>());
    if (!store.ok()) _exit(2);
    for (int64_t version = 2;; ++version) {
      CommitRequest request =
          Request({Change("raw.t", WriteOperation::kAppend,
                          {File(fmt::format("f{}", version), 1, 1), File(fmt::format("g{}", version), 1, 1)})});
      request.state = {{"p/j", "watermark", std::to_string(version)}};
      request.loaded_files = {{"p/j", fmt::format("in/{}.csv", version), version, version, "h"}};
      if (!(*store)->Commit(request).ok()) _exit(3);
    }
  }
  // Kill only once the writer is demonstrably committing, at a moment unrelated to its commit boundaries.
  auto watcher = Open();
  ASSERT_NE(watcher, nullptr);
  test_support::WaitUntil(
      [&] {
        auto table = watcher->GetTable(Table("raw.t"));
        return table.ok() && table->has_value() && (*table)->current_version >= 4;
      },
      seconds(30));
  watcher.reset();
  std::this_thread::sleep_for(std::chrono::microseconds(std::stoi(RandomHex(1), nullptr, 16) * 200));
  kill(child, SIGKILL);
  int wstatus = 0;
  waitpid(child, &wstatus, 0);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "the writer stopped on its own with exit code " << WEXITSTATUS(wstatus);

  store_ = Open();
  ASSERT_NE(store_, nullptr);
  auto info = store_->GetTable(Table("raw.t")).value().value();
  int64_t version = info.current_version;
  EXPECT_GE(version, 4) << "the writer made too few commits within 30 s";
  EXPECT_EQ(info.file_count, 1 + 2 * (version - 1));
  EXPECT_EQ(info.row_count, info.file_count);
  EXPECT_EQ(static_cast<int64_t>(Paths(Table("raw.t")).size()), info.file_count);
  EXPECT_EQ(static_cast<int64_t>(store_->History(Table("raw.t")).value().size()), version);
  EXPECT_EQ(store_->GetState("p/j", "watermark").value(), std::optional<std::string>(std::to_string(version)));
  EXPECT_EQ(static_cast<int64_t>(store_->LoadedFiles("p/j").value().size()), version - 1);
  // The catalog is still writable after the crash.
  EXPECT_THAT(MustCommit(Request({Change("raw.t", WriteOperation::kAppend, {File("after", 1, 1)})})),
              ElementsAre(version + 1));
}

QueuedRun Queued(std::string id, std::string pipeline, std::string dedup_key, TimePoint at) {
  QueuedRun run;
  run.id = RunId{std::move(id)};
  run.pipeline = std::move(pipeline);
  run.trigger = "schedule";
  run.dedup_key = std::move(dedup_key);
  run.detail = "cron 0 2 * * *";
  run.enqueued_at = at;
  run.not_before = at;
  return run;
}

TEST_P(MetadataStoreConformance, OneTriggerEventQueuesOneRunAndItsStateAdvancesWithIt) {
  auto first = store_->EnqueueRun(Queued("q1", "orders", "schedule:02:00", kStart),
                                  TriggerState{"orders", "schedule#0", "{\"last\":1}"});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->id.value, "q1");
  // The same event again (another instance, after a restart): refused, pointing at the first entry.
  auto second = Open()->EnqueueRun(Queued("q2", "orders", "schedule:02:00", kStart),
                                   TriggerState{"orders", "schedule#0", "{\"last\":2}"});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->id.value, "q1");
  EXPECT_EQ(store_->GetTriggerState("orders", "schedule#0").value(), std::optional<std::string>("{\"last\":2}"));
  EXPECT_EQ(store_->GetTriggerState("orders", "file_arrival#1").value(), std::nullopt);
  // Keys are per pipeline: the same event (a fire time, an upstream run) may start several pipelines.
  auto other = store_->EnqueueRun(Queued("r1", "reviews", "schedule:02:00", kStart), std::nullopt);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_TRUE(other->created);
  // Entries without a dedup key are never merged.
  ASSERT_TRUE(store_->EnqueueRun(Queued("q3", "orders", "", kStart), std::nullopt).value().created);
  ASSERT_TRUE(store_->EnqueueRun(Queued("q4", "orders", "", kStart), std::nullopt).value().created);
  auto pending = store_->PendingQueue().value();
  ASSERT_EQ(pending.size(), 4u);
  EXPECT_EQ(pending[0].id.value, "q1");
  EXPECT_EQ(pending[0].detail, "cron 0 2 * * *");
  EXPECT_EQ(pending[0].state, QueueState::kQueued);
}

TEST_P(MetadataStoreConformance, AQueuedRunKeepsItsRunOptionsUntilItIsClaimed) {
  QueuedRun refresh = Queued("a", "orders", "", kStart);
  refresh.full_refresh = true;
  refresh.only_job = "clean";
  ASSERT_TRUE(store_->EnqueueRun(refresh, std::nullopt).ok());
  ASSERT_TRUE(store_->EnqueueRun(Queued("b", "orders", "", kStart + std::chrono::seconds(1)), std::nullopt).ok());
  auto stored = Open()->GetQueuedRun("a").value();
  ASSERT_TRUE(stored.has_value());
  EXPECT_TRUE(stored->full_refresh);
  EXPECT_EQ(stored->only_job, "clean");
  auto claimed = store_->ClaimQueuedRun(kStart + std::chrono::seconds(2), {}).value();
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->id.value, "a");
  EXPECT_TRUE(claimed->full_refresh);
  EXPECT_EQ(claimed->only_job, "clean");
  auto plain = store_->ClaimQueuedRun(kStart + std::chrono::seconds(2), {}).value();
  ASSERT_TRUE(plain.has_value());
  EXPECT_FALSE(plain->full_refresh);
  EXPECT_EQ(plain->only_job, "");
}

TEST_P(MetadataStoreConformance, CancellingAQueuedRunRecordsItOnlyWhileNoWorkerHasClaimedIt) {
  ASSERT_TRUE(store_->EnqueueRun(Queued("a", "orders", "", kStart), std::nullopt).ok());
  ASSERT_TRUE(store_->EnqueueRun(Queued("b", "orders", "", kStart + std::chrono::seconds(1)), std::nullopt).ok());
  auto cancelled = [](const std::string& id) {
    RunRecord run = MakeRun(id, "orders", kStart);
    run.status = RunStatus::kCancelled;
    run.finished_at = kStart + std::chrono::seconds(5);
    run.error = "cancelled while it waited in the queue";
    return run;
  };
  ASSERT_EQ(store_->ClaimQueuedRun(kStart + std::chrono::seconds(2), {}).value()->id.value, "a");

  // "a" was claimed: a worker is starting it, so the cancellation changes nothing.
  EXPECT_FALSE(store_->CancelQueuedRun(cancelled("a")).value());
  EXPECT_FALSE(store_->GetRun("a").value().has_value());
  EXPECT_EQ(store_->GetQueuedRun("a").value()->state, QueueState::kClaimed);

  EXPECT_TRUE(Open()->CancelQueuedRun(cancelled("b")).value());
  EXPECT_EQ(store_->GetQueuedRun("b").value()->state, QueueState::kDone);
  auto recorded = store_->GetRun("b").value();
  ASSERT_TRUE(recorded.has_value());
  EXPECT_EQ(recorded->status, RunStatus::kCancelled);
  EXPECT_EQ(recorded->error, "cancelled while it waited in the queue");
  EXPECT_FALSE(store_->ClaimQueuedRun(kStart + std::chrono::minutes(1), {}).value().has_value());
  // Only once.
  EXPECT_FALSE(store_->CancelQueuedRun(cancelled("b")).value());
}

TEST_P(MetadataStoreConformance, ClaimingTakesTheOldestDueRunOfAnIdlePipelineOnce) {
  auto later = Queued("retry", "orders", "", kStart);
  later.not_before = kStart + std::chrono::minutes(5);
  later.attempt = 2;
  ASSERT_TRUE(store_->EnqueueRun(later, std::nullopt).ok());
  ASSERT_TRUE(store_->EnqueueRun(Queued("a", "orders", "", kStart + std::chrono::seconds(1)), std::nullopt).ok());
  ASSERT_TRUE(store_->EnqueueRun(Queued("b", "orders", "", kStart + std::chrono::seconds(2)), std::nullopt).ok());
  ASSERT_TRUE(store_->EnqueueRun(Queued("c", "reviews", "", kStart + std::chrono::seconds(3)), std::nullopt).ok());
  TimePoint now = kStart + std::chrono::minutes(1);

  auto claimed = store_->ClaimQueuedRun(now, {}).value();
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->id.value, "a");
  EXPECT_EQ(claimed->state, QueueState::kClaimed);
  // orders is busy now: the next due run of another pipeline goes first.
  claimed = Open()->ClaimQueuedRun(now, {"orders"}).value();
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->id.value, "c");
  EXPECT_FALSE(store_->ClaimQueuedRun(now, {"orders", "reviews"}).value().has_value());
  // The retry waits out its backoff.
  claimed = store_->ClaimQueuedRun(now, {}).value();
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->id.value, "b");
  EXPECT_FALSE(store_->ClaimQueuedRun(now, {}).value().has_value());
  claimed = store_->ClaimQueuedRun(kStart + std::chrono::minutes(6), {}).value();
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->id.value, "retry");
  EXPECT_EQ(claimed->attempt, 2);

  ASSERT_TRUE(store_->FinishQueuedRun(RunId{"a"}).ok());
  EXPECT_EQ(store_->GetQueuedRun("a").value()->state, QueueState::kDone);
  EXPECT_EQ(store_->PendingQueue().value().size(), 3u);
  EXPECT_EQ(store_->FinishQueuedRun(RunId{"nope"}).code(), StatusCode::kNotFound);
}

TEST_P(MetadataStoreConformance, PruningForgetsOldDoneEntriesAndFreesTheirDedupKeys) {
  ASSERT_TRUE(store_->EnqueueRun(Queued("old", "orders", "k1", kStart), std::nullopt).ok());
  ASSERT_TRUE(store_->EnqueueRun(Queued("open", "orders", "k2", kStart), std::nullopt).ok());
  ASSERT_TRUE(store_->FinishQueuedRun(RunId{"old"}).ok());
  EXPECT_EQ(store_->PruneQueue(kStart + std::chrono::hours(1)).value(), 1);
  EXPECT_EQ(store_->GetQueuedRun("old").value(), std::nullopt);
  EXPECT_TRUE(store_->GetQueuedRun("open").value().has_value());
  EXPECT_TRUE(store_->EnqueueRun(Queued("new", "orders", "k1", kStart), std::nullopt).value().created);
}

}  // namespace
}  // namespace sluice::catalog::testing
