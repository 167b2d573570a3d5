// Text output forms of PostgreSQL values (what pgoutput sends) → the DuckDB expressions and
// array JSON the cdc batches use.

#include "connectors/postgres/pg_text_values.hpp"

#include <gtest/gtest.h>

namespace sluice::postgres {
namespace {

TEST(PgTextValuesTest, ArraysBecomeJsonStringLists) {
  EXPECT_EQ(*ArrayTextToJson("{}"), "[]");
  EXPECT_EQ(*ArrayTextToJson("{1,NULL,3}"), R"(["1",null,"3"])");
  EXPECT_EQ(*ArrayTextToJson(R"({"a b","c,d","e\"f","NULL",x\y})"), R"(["a b","c,d","e\"f","NULL","xy"])");
  EXPECT_EQ(*ArrayTextToJson("[0:1]={7,8}"), R"(["7","8"])");
  EXPECT_EQ(*ArrayTextToJson("{\"line\nbreak\"}"), R"(["line\u000abreak"])");
  EXPECT_FALSE(ArrayTextToJson("{{1,2},{3,4}}").ok());
  EXPECT_FALSE(ArrayTextToJson("{\"open").ok());
  EXPECT_FALSE(ArrayTextToJson("1,2").ok());
  EXPECT_FALSE(ArrayTextToJson("[0:1]").ok());
}

TEST(PgTextValuesTest, CastsFollowTheTargetType) {
  PgColumn c;
  c.target = {"c", engine::ColumnKind::kVarchar};
  EXPECT_EQ(TextToTypedSql(c, "x"), "x");
  c.target = {"c", engine::ColumnKind::kBool};
  EXPECT_EQ(TextToTypedSql(c, "x"), "(CASE x WHEN 't' THEN true WHEN 'f' THEN false END)");
  c.target = {"c", engine::ColumnKind::kBlob};
  EXPECT_EQ(TextToTypedSql(c, "x"), "from_hex(substr(x, 3))");
  c.target = {"c", engine::ColumnKind::kDecimal, 12, 2};
  EXPECT_EQ(TextToTypedSql(c, "x"), "CAST(x AS DECIMAL(12,2))");
  c.target = {"c", engine::ColumnKind::kList, 0, 0, {{"", engine::ColumnKind::kInt32}}};
  EXPECT_EQ(TextToTypedSql(c, "x"), "CAST(from_json(x, '[\"VARCHAR\"]') AS INTEGER[])");
}

}  // namespace
}  // namespace sluice::postgres
