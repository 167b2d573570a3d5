#include "iceberg/table_metadata.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalog/sqlite_metadata_store.hpp"
#include "common/ids.hpp"
#include "iceberg/publisher.hpp"
#include "storage/object_store.hpp"

namespace sluice::iceberg {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

TEST(IcebergTypesTest, MapsDuckDbTypesToPrimitives) {
  EXPECT_EQ(*IcebergType("BIGINT"), "long");
  EXPECT_EQ(*IcebergType("INTEGER"), "int");
  EXPECT_EQ(*IcebergType("DECIMAL(18,2)"), "decimal(18, 2)");
  EXPECT_EQ(*IcebergType("TIMESTAMP WITH TIME ZONE"), "timestamptz");
  EXPECT_EQ(*IcebergType("varchar"), "string");
  EXPECT_FALSE(IcebergType("INTEGER[]").has_value());
  EXPECT_FALSE(IcebergType("STRUCT(a INTEGER)").has_value());
  EXPECT_FALSE(IcebergType("HUGEINT").has_value());
}

// Iceberg spec, Appendix D: single-value serialization.
TEST(IcebergTypesTest, BoundsUseTheSingleValueSerialization) {
  EXPECT_EQ(*SerializeBound("int", "1"), std::string("\x01\x00\x00\x00", 4));
  EXPECT_EQ(*SerializeBound("long", "-1"), std::string(8, '\xff'));
  EXPECT_EQ(*SerializeBound("date", "19000"), std::string("\x38\x4a\x00\x00", 4));
  EXPECT_EQ(*SerializeBound("double", "1.5"), std::string("\x00\x00\x00\x00\x00\x00\xf8\x3f", 8));
  EXPECT_EQ(*SerializeBound("boolean", "true"), "\x01");
  EXPECT_EQ(*SerializeBound("string", "abc"), "abc");
  // Decimals: unscaled, big-endian two's complement, fewest bytes.
  EXPECT_EQ(*SerializeBound("decimal(10, 2)", "150"), std::string("\x00\x96", 2));
  EXPECT_EQ(*SerializeBound("decimal(10, 2)", "-1"), "\xff");
  EXPECT_EQ(*SerializeBound("decimal(10, 2)", "127"), "\x7f");
  EXPECT_FALSE(SerializeBound("int", "x").has_value());
  EXPECT_FALSE(SerializeBound("string", std::string(65, 'a')).has_value());
  EXPECT_FALSE(SerializeBound("binary", "00").has_value());
}

TEST(IcebergTypesTest, PartitionValuesParseFromHivePaths) {
  EXPECT_EQ(ParsePartitionValue("date", "2022-01-08")->integer, 19000);
  EXPECT_EQ(*DaysSinceEpoch("1970-01-01"), 0);
  EXPECT_EQ(*DaysSinceEpoch("1969-12-31"), -1);
  EXPECT_TRUE(ParsePartitionValue("long", "__HIVE_DEFAULT_PARTITION__")->is_null);
  EXPECT_FALSE(ParsePartitionValue("int", "abc").has_value());
}

catalog::PublishedVersion Version(int64_t version, std::vector<catalog::Column> columns) {
  catalog::PublishedVersion v;
  v.table.name = catalog::TableName{"raw", "t"};
  v.table.location = "raw/t";
  v.table.partition_columns = {"day"};
  v.table.schema.columns = std::move(columns);
  v.table.current_version = version;
  v.version = version;
  v.committed_at = FromUnixMicros(1'700'000'000'000'000 + version);
  v.run_id = RunId{"run-" + std::to_string(version)};
  return v;
}

TEST(TableMetadataTest, HasTheFieldsTheSpecRequiresForVersion2) {
  auto v1 = Version(1, {{"id", "BIGINT", true, 1}, {"day", "DATE", true, 2}});
  SnapshotFiles files{"file:///lake/raw/t/metadata/snap-1.avro", "file:///lake/raw/t/metadata/v1.metadata.json",
                      "file:///lake/raw/t"};
  auto metadata = NextMetadata(std::nullopt, v1, files, std::nullopt);
  ASSERT_TRUE(metadata.ok()) << metadata.status();
  for (const char* key : {"format-version", "table-uuid", "location", "last-sequence-number", "last-updated-ms",
                          "last-column-id", "schemas", "current-schema-id", "partition-specs", "default-spec-id",
                          "last-partition-id", "sort-orders", "default-sort-order-id", "snapshots", "snapshot-log",
                          "metadata-log", "refs", "current-snapshot-id", "properties"}) {
    EXPECT_TRUE(metadata->contains(key)) << key;
  }
  const json& m = *metadata;
  EXPECT_EQ(m["format-version"], 2);
  EXPECT_EQ(m["table-uuid"].get<std::string>().size(), 36u);
  EXPECT_EQ(m["last-column-id"], 2);
  EXPECT_EQ(m["partition-specs"][0]["fields"][0],
            json({{"name", "day"}, {"transform", "identity"}, {"source-id", 2}, {"field-id", 1000}}));
  EXPECT_EQ(m["last-partition-id"], 1000);
  const json& snapshot = m["snapshots"][0];
  for (const char* key : {"snapshot-id", "sequence-number", "timestamp-ms", "manifest-list", "summary", "schema-id"}) {
    EXPECT_TRUE(snapshot.contains(key)) << key;
  }
  EXPECT_FALSE(snapshot.contains("parent-snapshot-id"));
  EXPECT_EQ(snapshot["summary"]["operation"], "append");
  EXPECT_EQ(m["refs"]["main"], json({{"snapshot-id", 1}, {"type", "branch"}}));

  // Version 2 adds a column: a second schema; the old columns keep their ids; the logs grow.
  auto v2 = Version(2, {{"id", "BIGINT", true, 1}, {"day", "DATE", true, 2}, {"note", "VARCHAR", true, 3}});
  v2.operation = catalog::WriteOperation::kCompact;
  auto next = NextMetadata(*metadata, v2, files, files.metadata_uri);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ((*next)["schemas"].size(), 2u);
  EXPECT_EQ((*next)["current-schema-id"], 1);
  EXPECT_EQ((*next)["table-uuid"], m["table-uuid"]);
  EXPECT_EQ((*next)["snapshots"][1]["parent-snapshot-id"], 1);
  EXPECT_EQ((*next)["snapshots"][1]["summary"]["operation"], "replace");
  EXPECT_EQ((*next)["metadata-log"][0]["metadata-file"], files.metadata_uri);
  EXPECT_EQ((*next)["snapshot-log"].size(), 2u);
  EXPECT_EQ((*next)["last-column-id"], 3);

  // The same columns again: the schema is reused, not repeated.
  auto again = NextMetadata(*next, Version(3, v2.table.schema.columns), files, files.metadata_uri);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)["schemas"].size(), 2u);
}

TEST(TableMetadataTest, NestedColumnsBecomeStructListAndMapTypesWithTheirIds) {
  catalog::Schema schema;
  schema.columns = {{"id", "BIGINT", true, 1},
                    {"s", "STRUCT(a INTEGER, tags VARCHAR[])", true, 2, {3, 4, 5}},
                    {"m", "MAP(VARCHAR, DOUBLE)", true, 6, {7, 8}},
                    {"u", "UNION(a INTEGER, b VARCHAR)", true, 9, {}},
                    {"legacy", "INTEGER[]", true, 10, {}}};  // stored before nested ids: left out until numbered
  std::vector<std::string> skipped;
  json fields = IcebergSchema(schema, 0, &skipped)["fields"];
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(skipped, (std::vector<std::string>{"u", "legacy"}));
  EXPECT_EQ(fields[1]["type"], json::parse(R"({"type":"struct","fields":[
      {"id":3,"name":"a","required":false,"type":"int"},
      {"id":4,"name":"tags","required":false,"type":
        {"type":"list","element-id":5,"element":"string","element-required":false}}]})"));
  EXPECT_EQ(fields[2]["type"], json::parse(R"({"type":"map","key-id":7,"key":"string","value-id":8,
      "value":"double","value-required":false})"));
  json mapping = json::parse(NameMapping(schema));
  EXPECT_EQ(mapping[1]["fields"][1], json::parse(R"({"field-id":4,"names":["tags"],"fields":[
      {"field-id":5,"names":["element"]}]})"));
}

TEST(TableMetadataTest, RefusesPartitionsIcebergIdentityCannotCarryHere) {
  auto v = Version(1, {{"id", "BIGINT", true, 1}, {"day", "DECIMAL(10,2)", true, 2}});
  auto spec = IdentitySpec(v.table);
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(spec.status().message(), HasSubstr("'day'"));
  EXPECT_THAT(spec.status().message(), HasSubstr("table_format: none"));
}

class PublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sluice-iceberg-test-" + RandomHex(8));
    std::filesystem::create_directories(dir_ / "lake");
    auto lake = storage::OpenObjectStore((dir_ / "lake").string());
    ASSERT_TRUE(lake.ok()) << lake.status();
    lake_ = std::move(*lake);
    auto store = catalog::SqliteMetadataStore::Open(dir_ / "catalog.db", std::make_shared<SystemClock>());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    store_->SetTableFormatPublisher(std::make_shared<IcebergPublisher>(*lake_));
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  catalog::CommitRequest Append(const std::string& day_type, const std::string& path) {
    catalog::CommitRequest request;
    request.run_id = RunId{"r1"};
    catalog::TableChange change;
    change.table = catalog::TableName{"raw", "t"};
    change.location = "raw/t";
    change.partition_columns = {"day"};
    change.schema.columns = {{"id", "BIGINT", true}, {"day", day_type, true}};
    change.added.push_back(
        {path, 3, 100, {{"day", "2024-01-01"}}, 0, R"({"id":{"values":3,"nulls":0,"min":"1","max":"3"}})"});
    request.tables.push_back(std::move(change));
    return request;
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::ObjectStore> lake_;
  std::unique_ptr<catalog::SqliteMetadataStore> store_;
};

TEST_F(PublisherTest, CommitPublishesMetadataAndMovesThePointerInItsTransaction) {
  ASSERT_TRUE(lake_->Put("raw/t/day=2024-01-01/a.parquet", "x").ok());
  auto committed = store_->Commit(Append("DATE", "raw/t/day=2024-01-01/a.parquet"));
  ASSERT_TRUE(committed.ok()) << committed.status();
  auto pointer = store_->GetTableFormatPointer(catalog::TableName{"raw", "t"});
  ASSERT_TRUE(pointer.ok() && pointer->has_value());
  EXPECT_EQ((*pointer)->metadata_location, lake_->Describe() + "/raw/t/metadata/v1.metadata.json");
  EXPECT_EQ(*lake_->Get("raw/t/metadata/version-hint.text"), "1");
  auto metadata = json::parse(*lake_->Get("raw/t/metadata/v1.metadata.json"));
  EXPECT_EQ(metadata["current-snapshot-id"], 1);
  auto table = store_->GetTable(catalog::TableName{"raw", "t"});
  EXPECT_EQ((*table)->schema.columns[1].field_id, 2);
  EXPECT_EQ((*table)->last_column_id, 2);

  // Compare-and-set: a pointer that moved meanwhile is not overwritten.
  Status stale = store_->SetTableFormatPointer(catalog::TableName{"raw", "t"}, std::string("file:///elsewhere"), "x");
  EXPECT_EQ(stale.code(), StatusCode::kConflict);
}

TEST_F(PublisherTest, AFailedPublicationFailsTheCommitAndChangesNothing) {
  // A partition column Iceberg identity cannot carry here: the publisher refuses, so the data is not committed.
  auto committed = store_->Commit(Append("DECIMAL(10,2)", "raw/t/day=2024-01-01/a.parquet"));
  ASSERT_FALSE(committed.ok());
  EXPECT_THAT(committed.status().message(), HasSubstr("Iceberg"));
  auto table = store_->GetTable(catalog::TableName{"raw", "t"});
  ASSERT_TRUE(table.ok());
  EXPECT_FALSE(table->has_value());
  EXPECT_FALSE(store_->GetTableFormatPointer(catalog::TableName{"raw", "t"})->has_value());
}

TEST_F(PublisherTest, WrittenIdsThatNoLongerMatchTheCatalogAreAConflict) {
  auto request = Append("DATE", "raw/t/day=2024-01-01/a.parquet");
  request.tables[0].schema.columns[0].field_id = 7;  // the writer numbered against another schema
  auto committed = store_->Commit(request);
  ASSERT_FALSE(committed.ok());
  EXPECT_EQ(committed.status().code(), StatusCode::kConflict);
  EXPECT_THAT(committed.status().message(), HasSubstr("field id 7"));
}

}  // namespace
}  // namespace sluice::iceberg
