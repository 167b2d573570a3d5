#include "catalog/types.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sluice::catalog {
namespace {

using ::testing::HasSubstr;

TEST(TableNameTest, ParsesZoneDotTable) {
  auto name = TableName::Parse(" raw.birdstrikes ");
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(name->zone, "raw");
  EXPECT_EQ(name->name, "birdstrikes");
  EXPECT_EQ(name->ToString(), "raw.birdstrikes");
  EXPECT_EQ(TableName::Parse("silver.orders_2024__rejects")->name, "orders_2024__rejects");
}

TEST(TableNameTest, RejectsOtherShapesAndExplainsTheForm) {
  for (const char* bad : {"birdstrikes", "raw.", ".birds", "a.b.c", "raw.bird strikes", "raw.birds;drop", ""}) {
    auto name = TableName::Parse(bad);
    ASSERT_FALSE(name.ok()) << bad;
    EXPECT_EQ(name.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(name.status().message(), HasSubstr("zone.table")) << bad;
  }
  EXPECT_THAT(TableName::Parse("birdstrikes").status().message(), HasSubstr("raw"));
}

TEST(TableNameTest, OrdersByZoneThenName) {
  EXPECT_LT((TableName{"raw", "z"}), (TableName{"silver", "a"}));
  EXPECT_LT((TableName{"raw", "a"}), (TableName{"raw", "b"}));
  EXPECT_EQ((TableName{"raw", "a"}), TableName::Parse("raw.a").value());
}

TEST(SchemaTest, JsonRoundTripsAndFindsColumns) {
  Schema schema{{{"id", "BIGINT", false}, {"amount", "DECIMAL(18,2)", true}, {"name \"quoted\"", "VARCHAR", true}}};
  auto back = Schema::FromJson(schema.ToJson());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, schema);
  ASSERT_NE(schema.Find("amount"), nullptr);
  EXPECT_EQ(schema.Find("amount")->type, "DECIMAL(18,2)");
  EXPECT_EQ(schema.Find("missing"), nullptr);
  EXPECT_EQ(Schema::FromJson(Schema{}.ToJson()).value(), Schema{});
  EXPECT_TRUE(Schema::FromJson(R"({"columns":[{"name":"a","type":"INT"}]})")->columns[0].nullable);
}

TEST(SchemaTest, MalformedJsonIsADataErrorSayingWhere) {
  EXPECT_EQ(Schema::FromJson("{").status().code(), StatusCode::kDataError);
  EXPECT_THAT(Schema::FromJson("[]").status().message(), HasSubstr("columns"));
  EXPECT_THAT(Schema::FromJson(R"({"columns":[{"name":"a","type":"INT"},{"name":"b"}]})").status().message(),
              HasSubstr("columns[1]"));
  EXPECT_THAT(
      Schema::FromJson(R"({"columns":[{"name":"a","type":"INT"},{"name":"a","type":"INT"}]})").status().message(),
      HasSubstr("twice"));
  EXPECT_THAT(Schema::FromJson(R"({"columns":[{"name":"a","type":"INT","nullable":"yes"}]})").status().message(),
              HasSubstr("nullable"));
}

TEST(DescribeSchemaChangeTest, SummarisesAddedChangedAndRemovedColumns) {
  Schema before{{{"y", "INTEGER", true}, {"z", "VARCHAR", true}, {"k", "BIGINT", true}}};
  Schema after{{{"y", "BIGINT", true}, {"k", "BIGINT", false}, {"x", "BIGINT", true}}};
  EXPECT_EQ(DescribeSchemaChange(before, after),
            "type of y INTEGER -> BIGINT; k became NOT NULL; added column x (BIGINT); removed column z");
  EXPECT_EQ(DescribeSchemaChange(before, before), "");
  EXPECT_EQ(DescribeSchemaChange(Schema{}, Schema{{{"x", "BIGINT", true}}}), "added column x (BIGINT)");
  Schema reordered{{before.columns[1], before.columns[0], before.columns[2]}};
  EXPECT_EQ(DescribeSchemaChange(before, reordered), "columns reordered");
}

TEST(NamesTest, WriteOperationsAndRunStatusesRoundTrip) {
  for (auto op :
       {WriteOperation::kAppend, WriteOperation::kOverwrite, WriteOperation::kDelete, WriteOperation::kCompact}) {
    EXPECT_EQ(ParseWriteOperation(WriteOperationName(op)).value(), op);
  }
  EXPECT_STREQ(WriteOperationName(WriteOperation::kOverwrite), "overwrite");
  EXPECT_STREQ(RunStatusName(RunStatus::kNoChanges), "no_changes");
  for (auto status : {RunStatus::kQueued, RunStatus::kRunning, RunStatus::kSucceeded, RunStatus::kNoChanges,
                      RunStatus::kFailed, RunStatus::kInterrupted, RunStatus::kCancelled, RunStatus::kSkipped}) {
    EXPECT_EQ(ParseRunStatus(RunStatusName(status)).value(), status);
  }
  auto bad = ParseRunStatus("done");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("succeeded"));
}

}  // namespace
Schema Columns(std::initializer_list<const char*> names) {
  Schema schema;
  for (const char* n : names) schema.columns.push_back({n, "BIGINT", true});
  return schema;
}

TEST(FieldIdsTest, KeepIdsOfKnownColumnsAndNumberNewOnesAfterTheLast) {
  Schema first = Columns({"a", "b"});
  int64_t last = 0;
  AssignFieldIds(Schema{}, &last, &first);
  EXPECT_EQ(first.columns[0].field_id, 1);
  EXPECT_EQ(first.columns[1].field_id, 2);
  EXPECT_EQ(last, 2);

  Schema second = Columns({"c", "a", "b"});  // a new column first: ids follow names, not places
  AssignFieldIds(first, &last, &second);
  EXPECT_EQ(second.Find("a")->field_id, 1);
  EXPECT_EQ(second.Find("b")->field_id, 2);
  EXPECT_EQ(second.Find("c")->field_id, 3);

  Schema dropped = Columns({"a", "c"});
  AssignFieldIds(second, &last, &dropped);
  Schema back = Columns({"a", "c", "b"});  // b dropped and added again: a new column, a new id
  AssignFieldIds(dropped, &last, &back);
  EXPECT_EQ(back.Find("b")->field_id, 4);
  EXPECT_EQ(last, 4);
}

TEST(FieldIdsTest, NestedFieldsGetIdsKeptWhileTheirPathExists) {
  Schema first;
  first.columns = {{"id", "BIGINT", true}, {"s", "STRUCT(a INTEGER, tags VARCHAR[])", true}, {"n", "INTEGER", true}};
  int64_t last = 0;
  AssignFieldIds(Schema{}, &last, &first);
  EXPECT_EQ(first.Find("id")->field_id, 1);
  EXPECT_EQ(first.Find("s")->field_id, 2);
  EXPECT_EQ(first.Find("s")->nested_field_ids, (std::vector<int64_t>{3, 4, 5}));  // a, tags, tags.element
  EXPECT_EQ(first.Find("n")->field_id, 6);
  EXPECT_TRUE(first.Find("n")->nested_field_ids.empty());

  auto parsed = Schema::FromJson(first.ToJson());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->Find("s")->nested_field_ids, first.Find("s")->nested_field_ids);

  Schema same = first;
  for (auto& c : same.columns) c.field_id = 0, c.nested_field_ids.clear();
  AssignFieldIds(*parsed, &last, &same);
  EXPECT_EQ(same.Find("s")->nested_field_ids, (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ(last, 6);

  Schema widened;
  widened.columns = {{"s", "STRUCT(a INTEGER, tags VARCHAR[], b DOUBLE)", true}};
  AssignFieldIds(first, &last, &widened);
  EXPECT_EQ(widened.Find("s")->field_id, 2);
  EXPECT_EQ(widened.Find("s")->nested_field_ids, (std::vector<int64_t>{3, 4, 5, 7}));  // b is new
  EXPECT_EQ(last, 7);

  Schema reshaped;
  reshaped.columns = {{"s", "STRUCT(a INTEGER, tags STRUCT(x INTEGER))", true}};
  AssignFieldIds(widened, &last, &reshaped);
  EXPECT_EQ(reshaped.Find("s")->nested_field_ids, (std::vector<int64_t>{3, 4, 8}));  // tags/x is a new path
}

TEST(FieldIdsTest, ASchemaStoredBeforeIdsCountsAsNumberedByPosition) {
  Schema legacy = Columns({"x", "y"});
  int64_t last = 0;
  Schema next = Columns({"y", "z"});
  AssignFieldIds(legacy, &last, &next);
  EXPECT_EQ(next.Find("y")->field_id, 2);
  EXPECT_EQ(next.Find("z")->field_id, 3);
  EXPECT_EQ(WithFieldIds(legacy).columns[0].field_id, 1);
}

TEST(FieldIdsTest, IdsRoundTripThroughJsonAndDoNotMakeSchemasDiffer) {
  Schema schema = Columns({"a", "b"});
  int64_t last = 0;
  AssignFieldIds(Schema{}, &last, &schema);
  auto parsed = Schema::FromJson(schema.ToJson());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->columns[1].field_id, 2);
  EXPECT_EQ(*parsed, Columns({"a", "b"}));
  EXPECT_FALSE(Schema::FromJson(R"({"columns":[{"name":"a","type":"INT","id":0}]})").ok());
}

}  // namespace sluice::catalog
