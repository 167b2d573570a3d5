#include "pipeline/schema_evolution.hpp"

#include <gtest/gtest.h>

namespace sluice::pipeline {
namespace {

catalog::TableInfo Table(std::vector<catalog::Column> columns) {
  catalog::TableInfo info;
  info.name = catalog::TableName{"silver", "t"};
  info.schema.columns = std::move(columns);
  return info;
}

TEST(SchemaEvolutionTest, WideningRules) {
  EXPECT_TRUE(WidensTo("INTEGER", "BIGINT"));
  EXPECT_FALSE(WidensTo("BIGINT", "INTEGER"));
  EXPECT_TRUE(WidensTo("FLOAT", "DOUBLE"));
  EXPECT_TRUE(WidensTo("INTEGER", "DECIMAL(18,2)"));
  EXPECT_TRUE(WidensTo("BIGINT", "DOUBLE"));
  EXPECT_TRUE(WidensTo("DATE", "TIMESTAMP"));
  EXPECT_TRUE(WidensTo("DATE", "VARCHAR"));
  EXPECT_FALSE(WidensTo("VARCHAR", "BIGINT"));
  EXPECT_FALSE(WidensTo("DOUBLE", "BIGINT"));
}

TEST(SchemaEvolutionTest, FirstWriteRecordsTheOutput) {
  auto decision = DecideSchema(std::nullopt, {{"id", "BIGINT"}, {"name", "VARCHAR"}}, {}, SchemaChangePolicy::kFail);
  ASSERT_TRUE(decision.ok()) << decision.status();
  ASSERT_EQ(decision->schema.columns.size(), 2u);
  EXPECT_EQ(decision->schema.columns[0].type, "BIGINT");
}

TEST(SchemaEvolutionTest, AddsColumnsAndWidens) {
  auto decision =
      DecideSchema(Table({{"id", "INTEGER", true}, {"v", "DOUBLE", true}}),
                   {{"id", "BIGINT"}, {"v", "INTEGER"}, {"extra", "VARCHAR"}}, {}, SchemaChangePolicy::kFail);
  ASSERT_TRUE(decision.ok()) << decision.status();
  EXPECT_EQ(decision->schema.columns[0].type, "BIGINT");  // widened
  EXPECT_EQ(decision->schema.columns[1].type, "DOUBLE");  // INTEGER fits the table's DOUBLE
  EXPECT_EQ(decision->schema.columns[2].name, "extra");
  EXPECT_TRUE(decision->schema.columns[2].nullable);
  EXPECT_TRUE(decision->casts.empty());
}

TEST(SchemaEvolutionTest, IncompatibleChangeFollowsThePolicy) {
  auto table = Table({{"n", "BIGINT", true}, {"d", "DATE", true}});
  auto failed = DecideSchema(table, {{"n", "VARCHAR"}}, {}, SchemaChangePolicy::kFail);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("column 'n' of silver.t is BIGINT in the table but VARCHAR"),
            std::string::npos)
      << failed.status();
  EXPECT_NE(failed.status().message().find("schema_evolution"), std::string::npos);

  auto evolved = DecideSchema(table, {{"n", "VARCHAR"}, {"d", "BIGINT"}}, {}, SchemaChangePolicy::kEvolve);
  ASSERT_TRUE(evolved.ok()) << evolved.status();
  EXPECT_EQ(evolved->schema.columns[0].type, "VARCHAR");
  EXPECT_EQ(evolved->schema.columns[1].type, "VARCHAR");
  auto numeric = DecideSchema(Table({{"x", "DECIMAL(10,2)", true}}), {{"x", "FLOAT"}}, {}, SchemaChangePolicy::kEvolve);
  ASSERT_TRUE(numeric.ok());
  EXPECT_EQ(numeric->schema.columns[0].type, "DOUBLE");

  auto quarantined = DecideSchema(table, {{"n", "VARCHAR"}}, {}, SchemaChangePolicy::kQuarantine);
  ASSERT_TRUE(quarantined.ok()) << quarantined.status();
  EXPECT_EQ(quarantined->schema.columns[0].type, "BIGINT");
  ASSERT_EQ(quarantined->casts.size(), 1u);
  auto [fitting, unfit] = QuarantineSelects("rel", *quarantined);
  EXPECT_NE(fitting.find("CAST(\"n\" AS BIGINT)"), std::string::npos) << fitting;
  EXPECT_NE(unfit.find("_reject_reason"), std::string::npos) << unfit;
}

TEST(SchemaEvolutionTest, PolicyWords) {
  EXPECT_EQ(*ParseSchemaChangePolicy(""), SchemaChangePolicy::kFail);
  EXPECT_EQ(*ParseSchemaChangePolicy("evolve"), SchemaChangePolicy::kEvolve);
  EXPECT_FALSE(ParseSchemaChangePolicy("widen").ok());
}

}  // namespace
}  // namespace sluice::pipeline
