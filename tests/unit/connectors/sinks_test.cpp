// The sink registry and the bind-time behaviour of the built-in sinks; writing to a real
// PostgreSQL is covered in tests/unit/postgres/pg_copy_writer_test.cpp and end to end in
// tests/e2e/test_postgres_target.py.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/value.hpp"
#include "connectors/sink.hpp"
#include "connectors/sinks/postgres/pg_target_schema.hpp"
#include "connectors/sinks/postgres/postgres_sink.hpp"
#include "unit/connectors/option_docs.hpp"

namespace sluice::connectors {
namespace {
namespace fs = std::filesystem;

config::Value Options(const std::string& yaml) {
  auto parsed = config::ParseYaml(yaml, "target.yaml", config::ParseOptions{});
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : config::Value();
}

TEST(SinkRegistryTest, EveryBuiltinSinkIsRegisteredOnce) {
  SinkRegistry registry;
  RegisterBuiltinSinks(registry);
  std::vector<std::string> names = registry.Names();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"postgres"}));
}

class PostgresSinkBindTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<Sink>> Bind(const std::string& yaml, std::vector<std::string> key = {}) {
    SinkBindContext context{project_, "shop", "orders", "warehouse", std::move(key), false};
    return BindSink(PostgresSinkDescriptor(), context, Options(yaml));
  }
  config::ProjectConfig project_;
};

TEST_F(PostgresSinkBindTest, PlansTheTargetWithoutConnecting) {
  auto sink = Bind("url: postgresql://u@127.0.0.1:1/db\nschema: staging\ntable: orders\nwrite: replace\n");
  ASSERT_TRUE(sink.ok()) << sink.status();
  EXPECT_EQ((*sink)->plan().target, "warehouse: staging.orders");
  EXPECT_TRUE((*sink)->plan().records_loads);
  EXPECT_NE((*sink)->plan().description.find("replace"), std::string::npos);
}

TEST_F(PostgresSinkBindTest, RefusesUnknownWritesUnknownKeysAndMergeWithoutKey) {
  auto bad_write = Bind("url: postgresql://u@h/db\ntable: orders\nwrite: overwrite\n");
  ASSERT_FALSE(bad_write.ok());
  EXPECT_NE(bad_write.status().message().find("replace"), std::string::npos) << bad_write.status();
  auto typo = Bind("url: postgresql://u@h/db\ntabel: orders\n");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("table"), std::string::npos) << typo.status();
  auto merge = Bind("url: postgresql://u@h/db\ntable: orders\nwrite: merge\n");
  ASSERT_FALSE(merge.ok());
  EXPECT_NE(merge.status().message().find("primary_key"), std::string::npos) << merge.status();
  EXPECT_TRUE(Bind("url: postgresql://u@h/db\ntable: orders\nwrite: merge\n", {"order_id"}).ok());
}

TEST_F(PostgresSinkBindTest, ALiteralPasswordIsRefused) {
  auto sink = Bind("url: postgresql://u@h/db\npassword: hunter2\ntable: orders\n");
  ASSERT_FALSE(sink.ok());
  EXPECT_EQ(sink.status().message().find("hunter2"), std::string::npos) << sink.status();
}

TEST(PgTargetSchemaTest, CreatedTypesKeepValuesExact) {
  auto type = [](const std::string& duck) { return pg_target::ColumnFor({"c", duck}).sql_type; };
  EXPECT_EQ(type("DECIMAL(12,2)"), "numeric(12,2)");
  EXPECT_EQ(type("TIMESTAMP WITH TIME ZONE"), "timestamp with time zone");
  EXPECT_EQ(type("TIMESTAMP_NS"), "timestamp");
  EXPECT_EQ(type("INTEGER[]"), "integer[]");
  EXPECT_EQ(type("STRUCT(a INTEGER)"), "jsonb");
  EXPECT_EQ(type("STRUCT(a INTEGER)[]"), "jsonb");
  EXPECT_EQ(type("INTEGER[][]"), "jsonb");
  EXPECT_EQ(type("BLOB"), "bytea");
  EXPECT_EQ(type("UUID"), "uuid");
  EXPECT_EQ(type("HUGEINT"), "numeric(38,0)");
}

TEST(PgTargetSchemaTest, LossyChangesAreRefusedNamingTheColumnAndBothTypes) {
  postgres::PgTargetColumn integer{"customer", "integer", postgres::PgScalar::kInt4, false};
  auto text_into_int = pg_target::SelectFor({"customer", "VARCHAR"}, integer, "staging.orders");
  ASSERT_FALSE(text_into_int.ok());
  EXPECT_NE(text_into_int.status().message().find("column 'customer' of staging.orders is integer"), std::string::npos);
  EXPECT_NE(text_into_int.status().message().find("VARCHAR"), std::string::npos);
  EXPECT_TRUE(pg_target::SelectFor({"customer", "BIGINT"}, integer, "staging.orders").ok());
  postgres::PgTargetColumn numeric{"amount", "numeric(12,2)", postgres::PgScalar::kNumeric, false};
  EXPECT_FALSE(pg_target::SelectFor({"amount", "DOUBLE"}, numeric, "t").ok());
  auto decimal = pg_target::SelectFor({"amount", "DECIMAL(18,4)"}, numeric, "t");
  ASSERT_TRUE(decimal.ok());
  EXPECT_EQ(*decimal, "CAST(\"amount\" AS DECIMAL(12,2))");
  postgres::PgTargetColumn text{"note", "text", postgres::PgScalar::kText, false};
  EXPECT_TRUE(pg_target::SelectFor({"note", "STRUCT(a INTEGER)"}, text, "t").ok());
  EXPECT_FALSE(pg_target::WritableColumn({"ip", "inet", "inet", false, false}).ok());
}

/// docs/connectors/<name>-target.md carry the option tables generated from the sink descriptors;
/// regenerate with SLUICE_UPDATE_DOCS=1.
TEST(SinkDocsTest, OptionTablesAreCurrent) {
  SinkRegistry registry;
  RegisterBuiltinSinks(registry);
  for (const auto& d : registry.descriptors()) {
    test_support::ExpectOptionTableCurrent("docs/connectors/" + d.name + "-target.md", d.options);
  }
}

}  // namespace
}  // namespace sluice::connectors
