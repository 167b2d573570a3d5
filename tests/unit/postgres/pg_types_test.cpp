#include "connectors/postgres/pg_types.hpp"

#include <gtest/gtest.h>

#include <map>

#include "unit/postgres/pg_server.hpp"

namespace sluice::postgres {
namespace {

using testing::PgServerTest;

class PgTypesTest : public PgServerTest {
 protected:
  void SetUp() override {
    PgServerTest::SetUp();
    pg_ = Connect();
    ASSERT_NE(pg_, nullptr);
  }

  std::map<std::string, PgColumn> ByName(const std::vector<PgColumn>& columns) {
    std::map<std::string, PgColumn> out;
    for (const auto& c : columns) out[c.name] = c;
    return out;
  }

  std::unique_ptr<PgClient> pg_;
};

TEST_F(PgTypesTest, MapsTableColumnsToDuckDbTypes) {
  ASSERT_TRUE(pg_->Execute(R"sql(
    DROP TABLE IF EXISTS typed; DROP TYPE IF EXISTS mood; DROP DOMAIN IF EXISTS money8; DROP DOMAIN IF EXISTS label;
    CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
    CREATE DOMAIN money8 AS numeric(8,3);
    CREATE DOMAIN label AS varchar(20) NOT NULL;
    CREATE TABLE typed (
      c_bool boolean NOT NULL, c_i2 smallint, c_i4 integer, c_i8 bigint, c_oid oid,
      c_f4 real, c_f8 double precision,
      c_num numeric, c_num_12_2 numeric(12,2), c_num_38 numeric(38,0), c_num_50 numeric(50,10),
      c_num_neg numeric(2,-3), c_num_small numeric(2,5),
      c_text text, c_vc varchar(10), c_char char(3), c_name name, c_qchar "char", c_xml xml,
      c_json json, c_jsonb jsonb, c_bytea bytea,
      c_date date, c_time time, c_ts timestamp(3), c_tstz timestamptz, c_iv interval, c_uuid uuid,
      c_int_arr integer[], c_text_arr text[], c_num_arr numeric(10,2)[], c_tstz_arr timestamptz[],
      c_mood mood, c_mood_arr mood[], c_money8 money8, c_label label
    ))sql")
                  .ok());
  auto described = DescribeTable(*pg_, "public", "typed");
  ASSERT_TRUE(described.ok()) << described.status();
  auto cols = ByName(*described);
  ASSERT_EQ(described->size(), 36u);
  EXPECT_EQ(described->front().name, "c_bool");  // catalog order

  std::map<std::string, std::string> expected = {
      {"c_bool", "BOOLEAN"},
      {"c_i2", "SMALLINT"},
      {"c_i4", "INTEGER"},
      {"c_i8", "BIGINT"},
      {"c_oid", "BIGINT"},
      {"c_f4", "FLOAT"},
      {"c_f8", "DOUBLE"},
      {"c_num", "VARCHAR"},
      {"c_num_12_2", "DECIMAL(12,2)"},
      {"c_num_38", "DECIMAL(38,0)"},
      {"c_num_50", "VARCHAR"},
      {"c_num_neg", "DECIMAL(5,0)"},
      {"c_num_small", "DECIMAL(5,5)"},
      {"c_text", "VARCHAR"},
      {"c_vc", "VARCHAR"},
      {"c_char", "VARCHAR"},
      {"c_name", "VARCHAR"},
      {"c_qchar", "VARCHAR"},
      {"c_xml", "VARCHAR"},
      {"c_json", "JSON"},
      {"c_jsonb", "JSON"},
      {"c_bytea", "BLOB"},
      {"c_date", "DATE"},
      {"c_time", "TIME"},
      {"c_ts", "TIMESTAMP"},
      {"c_tstz", "TIMESTAMP WITH TIME ZONE"},
      {"c_iv", "INTERVAL"},
      {"c_uuid", "UUID"},
      {"c_int_arr", "INTEGER[]"},
      {"c_text_arr", "VARCHAR[]"},
      {"c_num_arr", "DECIMAL(10,2)[]"},
      {"c_tstz_arr", "TIMESTAMP WITH TIME ZONE[]"},
      {"c_mood", "VARCHAR"},
      {"c_mood_arr", "VARCHAR[]"},
      {"c_money8", "DECIMAL(8,3)"},
      {"c_label", "VARCHAR"},
  };
  for (const auto& [name, type] : expected) {
    ASSERT_TRUE(cols.count(name)) << name;
    EXPECT_EQ(engine::DuckDbTypeName(cols[name].target), type) << name << " (" << cols[name].type_name << ")";
    EXPECT_EQ(cols[name].target.name, name);
    EXPECT_FALSE(cols[name].cast_to_text) << name;
  }
  EXPECT_EQ(cols["c_num_12_2"].type_name, "numeric(12,2)");
  EXPECT_EQ(cols["c_int_arr"].type_name, "integer[]");
  EXPECT_EQ(cols["c_int_arr"].wire, WireType::kArray);
  EXPECT_EQ(cols["c_int_arr"].element_wire, WireType::kInt4);
  EXPECT_EQ(cols["c_jsonb"].wire, WireType::kJsonb);
  EXPECT_EQ(cols["c_money8"].wire, WireType::kNumeric);
  EXPECT_TRUE(cols["c_bool"].not_null);
  EXPECT_FALSE(cols["c_i2"].not_null);

  // The same columns through a query description agree on every type.
  auto from_query = DescribeQuery(*pg_, "SELECT * FROM typed;  ");
  ASSERT_TRUE(from_query.ok()) << from_query.status();
  ASSERT_EQ(from_query->size(), described->size());
  for (size_t i = 0; i < described->size(); ++i) {
    EXPECT_EQ(engine::DuckDbTypeName((*from_query)[i].target), engine::DuckDbTypeName((*described)[i].target))
        << (*described)[i].name;
  }
}

TEST_F(PgTypesTest, UnsupportedTypesFailNamingTheColumnUnlessCastToText) {
  ASSERT_TRUE(
      pg_->Execute("DROP TABLE IF EXISTS odd; CREATE TABLE odd (id int, addr inet, pos point, r int4range)").ok());
  auto strict = DescribeTable(*pg_, "public", "odd");
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(strict.status().message().find("'addr'"), std::string::npos) << strict.status();
  EXPECT_NE(strict.status().message().find("inet"), std::string::npos) << strict.status();
  EXPECT_NE(strict.status().message().find("cast_unsupported_to_text"), std::string::npos) << strict.status();

  TypeMappingOptions options;
  options.cast_unsupported_to_text = true;
  auto lenient = DescribeTable(*pg_, "public", "odd", options);
  ASSERT_TRUE(lenient.ok()) << lenient.status();
  auto cols = ByName(*lenient);
  EXPECT_FALSE(cols["id"].cast_to_text);
  for (const char* name : {"addr", "pos", "r"}) {
    EXPECT_TRUE(cols[name].cast_to_text) << name;
    EXPECT_EQ(engine::DuckDbTypeName(cols[name].target), "VARCHAR") << name;
  }
  EXPECT_EQ(SelectList(*lenient),
            "q.\"id\", q.\"addr\"::text AS \"addr\", q.\"pos\"::text AS \"pos\", "
            "q.\"r\"::text AS \"r\"");
  EXPECT_EQ(CopySql("SELECT * FROM odd;", *lenient),
            "COPY (SELECT q.\"id\", q.\"addr\"::text AS \"addr\", q.\"pos\"::text AS \"pos\", q.\"r\"::text AS \"r\" "
            "FROM (SELECT * FROM odd\n) AS q) TO STDOUT (FORMAT binary)");
}

TEST_F(PgTypesTest, DescribesExpressionsAndReportsProblems) {
  auto cols = DescribeQuery(*pg_,
                            "SELECT 1::int8 AS a, 'x'::text AS b, now() AS c, 1.5::numeric(4,1) AS d, "
                            "ARRAY[1.5]::numeric[] AS e -- a trailing comment");
  ASSERT_TRUE(cols.ok()) << cols.status();
  ASSERT_EQ(cols->size(), 5u);
  EXPECT_EQ(engine::DuckDbTypeName((*cols)[0].target), "BIGINT");
  EXPECT_EQ(engine::DuckDbTypeName((*cols)[2].target), "TIMESTAMP WITH TIME ZONE");
  EXPECT_EQ(engine::DuckDbTypeName((*cols)[3].target), "DECIMAL(4,1)");
  EXPECT_EQ(engine::DuckDbTypeName((*cols)[4].target), "VARCHAR[]");

  auto missing = DescribeTable(*pg_, "public", "no_such_table");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("no_such_table"), std::string::npos);

  auto dup = DescribeQuery(*pg_, "SELECT 1 AS a, 2 AS \"A\"");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("two columns"), std::string::npos) << dup.status();

  auto bad = DescribeQuery(*pg_, "SELECT nope FROM nowhere");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("42P01"), std::string::npos) << bad.status();
}

TEST(PgTypmodTest, DecodesNumericTypmods) {
  int p = 0;
  int s = 0;
  EXPECT_FALSE(DecodeNumericTypmod(-1, &p, &s));
  ASSERT_TRUE(DecodeNumericTypmod(((12 << 16) | 2) + 4, &p, &s));
  EXPECT_EQ(p, 12);
  EXPECT_EQ(s, 2);
  ASSERT_TRUE(DecodeNumericTypmod(((2 << 16) | (-3 & 0x7ff)) + 4, &p, &s));
  EXPECT_EQ(p, 2);
  EXPECT_EQ(s, -3);
}

}  // namespace
}  // namespace sluice::postgres
