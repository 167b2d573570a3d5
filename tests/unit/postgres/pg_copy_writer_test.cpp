#include "connectors/postgres/pg_copy_writer.hpp"

#include <gtest/gtest.h>

#include "engine/column_stream.hpp"
#include "unit/postgres/pg_server.hpp"

namespace sluice::postgres {
namespace {

using testing::PgAndEngineTest;

class PgCopyWriterTest : public PgAndEngineTest {
 protected:
  /// Streams `select` (DuckDB) into `table` (PostgreSQL) whose columns are `columns`.
  Result<int64_t> Copy(const std::string& select, const std::string& table, std::vector<PgTargetColumn> columns) {
    SLUICE_ASSIGN_OR_RETURN(auto stream, engine::StreamColumns(*duck_, select));
    std::vector<std::string> names;
    for (const auto& c : columns) names.push_back(QuoteIdent(c.name));
    std::string sql = "COPY " + table + " (" + [&] {
      std::string joined;
      for (size_t i = 0; i < names.size(); ++i) joined += (i ? ", " : "") + names[i];
      return joined;
    }() + ") FROM STDIN (FORMAT binary)";
    SLUICE_ASSIGN_OR_RETURN(auto writer, CopyInWriter::Start(*pg_, sql, std::move(columns)));
    for (;;) {
      SLUICE_ASSIGN_OR_RETURN(uint64_t rows, stream->Next());
      if (rows == 0) break;
      SLUICE_TRY(writer->WriteChunk(*stream, rows));
    }
    return writer->Finish();
  }

  std::string Text(const std::string& sql) {
    auto rows = pg_->Query(sql);
    EXPECT_TRUE(rows.ok()) << rows.status();
    std::string out;
    if (!rows.ok()) return out;
    for (const auto& row : rows->rows) {
      for (size_t c = 0; c < row.size(); ++c) out += (c ? "|" : "") + row[c].value_or("<null>");
      out += "\n";
    }
    return out;
  }
};

// The encoder's numeric bytes equal what PostgreSQL's own numeric_send produces.
TEST_F(PgCopyWriterTest, NumericEncodingMatchesTheServers) {
  struct Case {
    int64_t unscaled;
    int scale;
    const char* literal;
  };
  const Case cases[] = {{0, 0, "0"},
                        {0, 2, "0.00"},
                        {1, 0, "1"},
                        {-1, 0, "-1"},
                        {1234567, 2, "12345.67"},
                        {-5, 3, "-0.005"},
                        {100000000, 0, "100000000"},
                        {10000, 4, "1.0000"},
                        {123456789012345678, 6, "123456789012.345678"},
                        {99990000, 4, "9999.0000"}};
  for (const auto& c : cases) {
    engine::Int128 value{static_cast<uint64_t>(c.unscaled), c.unscaled < 0 ? -1 : 0};
    std::string ours = EncodeNumeric(value, c.scale);
    std::string hex;
    for (unsigned char byte : ours) hex += fmt::format("{:02x}", byte);
    std::string theirs = Text(fmt::format("SELECT encode(numeric_send({}::numeric), 'hex')", c.literal));
    EXPECT_EQ(hex + "\n", theirs) << c.literal;
  }
  // Beyond 64 bits: 38 digits.
  __extension__ using WideInt = __int128;
  WideInt big = static_cast<WideInt>(1234567890123456789LL) * 100000000000000000LL + 1234567890123456LL;
  engine::Int128 wide{static_cast<uint64_t>(big), static_cast<int64_t>(big >> 64)};
  std::string ours = EncodeNumeric(wide, 10);
  std::string hex;
  for (unsigned char byte : ours) hex += fmt::format("{:02x}", byte);
  EXPECT_EQ(hex + "\n", Text("SELECT encode(numeric_send(12345678901234567890123456.7890123456::numeric), 'hex')"));
}

TEST_F(PgCopyWriterTest, EveryWritableTypeRoundTrips) {
  ASSERT_TRUE(
      pg_->Execute("CREATE TABLE t (b boolean, i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision, "
                   "n numeric(20,4), s text, by bytea, d date, tm time, ts timestamp, tz timestamptz, "
                   "iv interval, u uuid, j json, jb jsonb, arr integer[], tarr text[])")
          .ok());
  std::vector<PgTargetColumn> columns = {{"b", "boolean", PgScalar::kBool},
                                         {"i2", "smallint", PgScalar::kInt2},
                                         {"i4", "integer", PgScalar::kInt4},
                                         {"i8", "bigint", PgScalar::kInt8},
                                         {"f4", "real", PgScalar::kFloat4},
                                         {"f8", "double precision", PgScalar::kFloat8},
                                         {"n", "numeric(20,4)", PgScalar::kNumeric},
                                         {"s", "text", PgScalar::kText},
                                         {"by", "bytea", PgScalar::kBytea},
                                         {"d", "date", PgScalar::kDate},
                                         {"tm", "time", PgScalar::kTime},
                                         {"ts", "timestamp", PgScalar::kTimestamp},
                                         {"tz", "timestamptz", PgScalar::kTimestampTz},
                                         {"iv", "interval", PgScalar::kInterval},
                                         {"u", "uuid", PgScalar::kUuid},
                                         {"j", "json", PgScalar::kJson},
                                         {"jb", "jsonb", PgScalar::kJsonb},
                                         {"arr", "integer[]", PgScalar::kInt4, true},
                                         {"tarr", "text[]", PgScalar::kText, true}};
  std::string select =
      "SELECT true AS b, CAST(-7 AS SMALLINT) AS i2, 2147483647 AS i4, CAST(-9007199254740993 AS BIGINT) AS i8, "
      "CAST(1.5 AS FLOAT) AS f4, CAST(0.1 AS DOUBLE) AS f8, CAST('-1234567890123456.7891' AS DECIMAL(20,4)) AS n, "
      "'multi\nline ''quoted'' é' AS s, '\\x00\\xFFab'::BLOB AS \"by\", DATE '1999-12-31' AS d, TIME '23:59:59.123456' "
      "AS tm, "
      "TIMESTAMP '1970-01-01 00:00:00.000001' AS ts, TIMESTAMPTZ '2026-12-05 10:00:00+00' AS tz, "
      "INTERVAL '1 year 2 days 3 seconds' AS iv, UUID 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' AS u, "
      "'{\"a\": [1, 2]}' AS j, '{\"b\": null}' AS jb, [1, NULL, 3] AS arr, ['x', 'y''z'] AS tarr "
      "UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
      "NULL, "
      "NULL, [], NULL";
  auto copied = Copy(select, "t", columns);
  ASSERT_TRUE(copied.ok()) << copied.status();
  EXPECT_EQ(*copied, 2);
  ASSERT_TRUE(pg_->Execute("SET TIME ZONE 'UTC'").ok());
  EXPECT_EQ(Text("SELECT b, i2, i4, i8, f4, f8, n, s, encode(by, 'hex'), d, tm, ts, tz, iv, u, j, "
                 "jb, arr, tarr FROM t ORDER BY b NULLS LAST"),
            "t|-7|2147483647|-9007199254740993|1.5|0.1|-1234567890123456.7891|multi\nline 'quoted' é|00ff6162|"
            "1999-12-31|23:59:59.123456|1970-01-01 00:00:00.000001|2026-12-05 10:00:00+00|1 year 2 days 00:00:03|"
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|{\"a\": [1, 2]}|{\"b\": null}|{1,NULL,3}|{x,y'z}\n"
            "<null>|<null>|<null>|<null>|<null>|<null>|<null>|<null>|<null>|<null>|<null>|<null>|<null>|<null>|<null>|"
            "<null>|<null>|{}|<null>\n");
}

TEST_F(PgCopyWriterTest, InfiniteDatesAndTimestampsStayInfinite) {
  ASSERT_TRUE(pg_->Execute("CREATE TABLE inf (d date, ts timestamp)").ok());
  auto copied = Copy("SELECT DATE 'infinity' AS d, TIMESTAMP '-infinity' AS ts", "inf",
                     {{"d", "date", PgScalar::kDate}, {"ts", "timestamp", PgScalar::kTimestamp}});
  ASSERT_TRUE(copied.ok()) << copied.status();
  EXPECT_EQ(Text("SELECT d, ts FROM inf"), "infinity|-infinity\n");
}

TEST_F(PgCopyWriterTest, ManyChunksStreamInBoundedBuffers) {
  ASSERT_TRUE(pg_->Execute("CREATE TABLE big (id bigint, label text)").ok());
  auto copied = Copy("SELECT range AS id, 'row ' || range AS label FROM range(300000)", "big",
                     {{"id", "bigint", PgScalar::kInt8}, {"label", "text", PgScalar::kText}});
  ASSERT_TRUE(copied.ok()) << copied.status();
  EXPECT_EQ(*copied, 300000);
  EXPECT_EQ(Text("SELECT count(*), sum(id), max(label) FROM big"), "300000|44999850000|row 99999\n");
}

TEST_F(PgCopyWriterTest, AServerErrorNamesTheColumnsProblem) {
  ASSERT_TRUE(pg_->Execute("CREATE TABLE strict_t (id integer NOT NULL)").ok());
  auto copied = Copy("SELECT CAST(NULL AS INTEGER) AS id", "strict_t", {{"id", "integer", PgScalar::kInt4}});
  ASSERT_FALSE(copied.ok());
  EXPECT_NE(copied.status().message().find("23502"), std::string::npos) << copied.status();
  // The connection is usable afterwards.
  EXPECT_EQ(Text("SELECT 1"), "1\n");
}

}  // namespace
}  // namespace sluice::postgres
