#include "connectors/postgres/pg_copy_reader.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "unit/postgres/pg_server.hpp"

namespace sluice::postgres {
namespace {

using testing::PgAndEngineTest;

class PgCopyReaderTest : public PgAndEngineTest {
 protected:
  void Exec(const std::string& sql) { ASSERT_TRUE(pg_->Execute(sql).ok()) << pg_->Execute(sql); }

  /// Copies `query` into DuckDB table `table` in one go; returns the reader's final status.
  Status CopyAll(const std::string& query, const std::string& table, TypeMappingOptions types = {}) {
    CopyReaderOptions options;
    options.query = query;
    options.table = table;
    options.types = types;
    auto reader = PgCopyReader::Start(*pg_, *duck_, options);
    if (!reader.ok()) return reader.status();
    auto more = (*reader)->ReadBatch(1'000'000);
    if (!more.ok()) return more.status();
    EXPECT_FALSE(*more);
    return Status::OK();
  }

  /// Every column of a DuckDB query as text ("<NULL>" for NULL), row by row.
  std::vector<std::vector<std::string>> Rows(const std::string& sql) {
    auto result = duck_->Query("SELECT COLUMNS(*)::VARCHAR FROM (" + sql + ")");
    EXPECT_TRUE(result.ok()) << result.status() << " for " << sql;
    std::vector<std::vector<std::string>> out;
    if (!result.ok()) return out;
    for (const auto& row : result->rows) {
      std::vector<std::string> r;
      for (const auto& v : row) r.push_back(v.value_or("<NULL>"));
      out.push_back(std::move(r));
    }
    return out;
  }

  std::string One(const std::string& sql) {
    auto rows = Rows(sql);
    return rows.empty() || rows[0].empty() ? "<none>" : rows[0][0];
  }

  /// Values of one column ordered by id, joined with " | ".
  std::string Column(const std::string& table, const std::string& expr) {
    std::string out;
    for (const auto& row : Rows("SELECT " + expr + " FROM " + table + " ORDER BY id")) {
      if (!out.empty()) out += " | ";
      out += row[0];
    }
    return out;
  }
};

TEST_F(PgCopyReaderTest, NumericsStayExact) {
  Exec(R"sql(CREATE TABLE nums (id int, free numeric, d numeric(12,2), wide numeric(38,0), tiny numeric(38,20),
                                neg numeric(2,-3), big numeric(60,5));
    INSERT INTO nums VALUES
      (1, 0, 0, 0, 0, 0, 0),
      (2, -0.5, -0.5, -1, -0.5, -1000, -0.5),
      (3, 1e-20, 1234567890.12, 99999999999999999999999999999999999999, 1e-20, 99000,
          12345678901234567890123456789012345678901234567890.12345),
      (4, 'NaN', NULL, -99999999999999999999999999999999999999, -99999999999999999.99999999999999999999, NULL, NULL),
      (5, 12345678901234567890123456789012345678901234567890, 9999999999.99, 10000, 1, NULL, 'NaN'),
      (6, 'Infinity', -0.01, NULL, NULL, NULL, NULL),
      (9, '-Infinity', NULL, NULL, NULL, NULL, NULL),
      (7, 100000000, 100000000, 100000000, 0.0001, NULL, 0.00001),
      (8, -0.000123400, NULL, NULL, NULL, NULL, NULL))sql");
  ASSERT_TRUE(CopyAll("SELECT * FROM nums", "nums").ok());
  EXPECT_EQ(Column("nums", "free"),
            "0 | -0.5 | 0.00000000000000000001 | NaN | 12345678901234567890123456789012345678901234567890 | "
            "Infinity | 100000000 | -0.000123400 | -Infinity");
  EXPECT_EQ(Column("nums", "d"),
            "0.00 | -0.50 | 1234567890.12 | <NULL> | 9999999999.99 | -0.01 | 100000000.00 | <NULL> | <NULL>");
  EXPECT_EQ(Column("nums", "wide"),
            "0 | -1 | 99999999999999999999999999999999999999 | -99999999999999999999999999999999999999 | 10000 | "
            "<NULL> | 100000000 | <NULL> | <NULL>");
  EXPECT_EQ(Column("nums", "tiny"),
            "0.00000000000000000000 | -0.50000000000000000000 | 0.00000000000000000001 | "
            "-99999999999999999.99999999999999999999 | "
            "1.00000000000000000000 | <NULL> | 0.00010000000000000000 | <NULL> | <NULL>");
  EXPECT_EQ(Column("nums", "neg"), "0 | -1000 | 99000 | <NULL> | <NULL> | <NULL> | <NULL> | <NULL> | <NULL>");
  EXPECT_EQ(Column("nums", "big"),
            "0.00000 | -0.50000 | 12345678901234567890123456789012345678901234567890.12345 | <NULL> | NaN | "
            "<NULL> | 0.00001 | <NULL> | <NULL>");
  // Decimal columns hold numbers, not text: arithmetic works and is exact.
  EXPECT_EQ(One("SELECT sum(d)::VARCHAR FROM nums"), "11334567889.60");
  EXPECT_EQ(One("SELECT typeof(wide) FROM nums LIMIT 1"), "DECIMAL(38,0)");
  // The text PostgreSQL itself prints for the free-form column matches ours byte for byte.
  auto pg_text = pg_->Query("SELECT string_agg(free::text, ' | ' ORDER BY id) AS t FROM nums");
  ASSERT_TRUE(pg_text.ok());
  EXPECT_EQ(pg_text->Get(0, "t"), Column("nums", "free"));
}

TEST_F(PgCopyReaderTest, NanInADecimalColumnIsADataErrorNamingTheColumn) {
  Exec("CREATE TABLE nan_dec (id int, amount numeric(10,2)); INSERT INTO nan_dec VALUES (1, 1.5), (2, 'NaN')");
  Status st = CopyAll("SELECT * FROM nan_dec ORDER BY id", "nan_dec");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kDataError) << st;
  EXPECT_NE(st.message().find("'amount'"), std::string::npos) << st;
  EXPECT_NE(st.message().find("row 2"), std::string::npos) << st;
  EXPECT_NE(st.message().find("NaN"), std::string::npos) << st;
  // The COPY was cancelled and drained: the connection works for the next statement.
  auto after = pg_->Query("SELECT 42 AS n");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->Get(0, "n"), "42");
}

TEST_F(PgCopyReaderTest, TimesDatesAndIntervals) {
  Exec(R"sql(SET TimeZone = 'UTC';
    CREATE TABLE times (id int, d date, t time, ts timestamp, tz timestamptz, iv interval);
    INSERT INTO times VALUES
      (1, '2000-01-01', '00:00:00', '2000-01-01 00:00:00', '2000-01-01 00:00:00+00', '0'),
      (2, '1969-07-20', '20:17:40.123456', '1969-07-20 20:17:40.123456', '1969-07-20 20:17:40.5+00',
          '1 year 2 months 3 days 04:05:06.789'),
      (3, '0001-01-01', '23:59:59.999999', '0001-01-01 00:00:00', '1500-06-15 12:00:00+00', '-1 months -2 days'),
      (4, '9999-12-31', '12:00', '9999-12-31 23:59:59.999999', '3000-01-01 00:00:00+00', '100 years'),
      (5, 'infinity', NULL, 'infinity', '-infinity', '-00:00:00.000001'),
      (6, '-infinity', NULL, '-infinity', 'infinity', NULL),
      (7, '1999-12-31', '24:00:00', '200000-01-01 00:00:00', NULL, '1 day -1 second'))sql");
  // The session's TimeZone must not move instants: binary timestamptz is always UTC.
  Exec("SET TimeZone = 'Asia/Kolkata'");
  ASSERT_TRUE(CopyAll("SELECT * FROM times", "times").ok());
  EXPECT_EQ(Column("times", "d"),
            "2000-01-01 | 1969-07-20 | 0001-01-01 | 9999-12-31 | infinity | -infinity | 1999-12-31");
  EXPECT_EQ(Column("times", "t"),
            "00:00:00 | 20:17:40.123456 | 23:59:59.999999 | 12:00:00 | <NULL> | <NULL> | 24:00:00");
  EXPECT_EQ(Column("times", "ts"),
            "2000-01-01 00:00:00 | 1969-07-20 20:17:40.123456 | 0001-01-01 00:00:00 | 9999-12-31 23:59:59.999999 | "
            "infinity | -infinity | 200000-01-01 00:00:00");
  EXPECT_EQ(Column("times", "CASE WHEN isinf(tz) THEN tz::VARCHAR ELSE epoch_us(tz)::VARCHAR END"),
            "946684800000000 | -14182939500000 | -14817470400000000 | 32503680000000000 | -infinity | infinity | "
            "<NULL>");
  // Same instants as PostgreSQL computes them.
  auto pg_epochs = pg_->Query(
      "SELECT string_agg((extract(epoch FROM tz) * 1000000)::bigint::text, ' | ' ORDER BY id) AS e FROM times "
      "WHERE id <= 4");
  ASSERT_TRUE(pg_epochs.ok()) << pg_epochs.status();
  EXPECT_EQ(pg_epochs->Get(0, "e"), Column("times WHERE id <= 4", "epoch_us(tz)"));
  EXPECT_EQ(Column("times", "iv"),
            "00:00:00 | 1 year 2 months 3 days 04:05:06.789 | -1 month -2 days | 100 years | -00:00:00.000001 | "
            "<NULL> | 1 day -00:00:01");
  EXPECT_EQ(One("SELECT typeof(tz) FROM times LIMIT 1"), "TIMESTAMP WITH TIME ZONE");
}

TEST_F(PgCopyReaderTest, TextBytesJsonUuidAndFriends) {
  Exec(R"sql(CREATE TYPE color AS ENUM ('red', 'green');
    CREATE DOMAIN short_text AS varchar(5);
    CREATE TABLE misc (id int, b boolean, i2 smallint, i4 integer, i8 bigint, o oid, f4 real, f8 double precision,
                       t text, c char(4), qc "char", bin bytea, j json, jb jsonb, u uuid, e color, dom short_text);
    INSERT INTO misc VALUES
      (1, true, -32768, -2147483648, -9223372036854775808, 4294967295, 1.5, -2.25,
       'héllo wörld € 😀 日本語', 'ab', 'x', '\x00ff00'::bytea, '{"b": 1, "a": [1, 2]}',
       '{"b": 1, "a": [1, 2]}', '123e4567-e89b-12d3-a456-426614174000', 'green', 'abc'),
      (2, false, 32767, 2147483647, 9223372036854775807, 0, 'NaN', 'Infinity', '', '', '', ''::bytea, 'null',
       '"s"', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'red', ''),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL))sql");
  ASSERT_TRUE(CopyAll("SELECT * FROM misc", "misc").ok());
  auto rows = Rows("SELECT * EXCLUDE (bin), hex(bin), octet_length(bin) FROM misc ORDER BY id");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"1", "true", "-32768", "-2147483648", "-9223372036854775808",
                                               "4294967295", "1.5", "-2.25", "héllo wörld € 😀 日本語", "ab  ", "x",
                                               R"({"b": 1, "a": [1, 2]})", R"({"a": [1, 2], "b": 1})",
                                               "123e4567-e89b-12d3-a456-426614174000", "green", "abc", "00FF00", "3"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"2", "false", "32767", "2147483647", "9223372036854775807", "0", "nan",
                                               "inf", "", "    ", "", "null", R"("s")",
                                               "ffffffff-ffff-ffff-ffff-ffffffffffff", "red", "", "", "0"}));
  for (size_t c = 1; c + 1 < rows[2].size(); ++c) EXPECT_EQ(rows[2][c], "<NULL>") << c;
  EXPECT_EQ(One("SELECT typeof(jb) FROM misc LIMIT 1"), "JSON");
  EXPECT_EQ(One("SELECT jb->>'$.a[1]' FROM misc WHERE id = 1"), "2");
}

TEST_F(PgCopyReaderTest, ArraysBecomeLists) {
  Exec(R"sql(CREATE TABLE arrs (id int, ints integer[], texts text[], nums numeric(10,2)[], free numeric[],
                                 stamps timestamptz[], uuids uuid[], bools boolean[], blobs bytea[]);
    INSERT INTO arrs VALUES
      (1, '{1,NULL,3}', '{"a","Äö ü",NULL,""}', '{1.5,-0.25}', '{1e-5,NaN}', '{"2000-01-01 00:00:00+00"}',
          '{123e4567-e89b-12d3-a456-426614174000}', '{t,f,NULL}', '{"\\x00ff"}'),
      (2, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}'),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (4, '[5:6]={7,8}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}'))sql");
  ASSERT_TRUE(CopyAll("SELECT * FROM arrs", "arrs").ok());
  EXPECT_EQ(Column("arrs", "ints"), "[1, NULL, 3] | [] | <NULL> | [7, 8]");
  EXPECT_EQ(Column("arrs", "texts"), "[a, Äö ü, NULL, ''] | [] | <NULL> | [NULL]");
  EXPECT_EQ(Column("arrs", "nums"), "[1.50, -0.25] | [] | <NULL> | [NULL]");
  EXPECT_EQ(Column("arrs", "free"), "[0.00001, NaN] | [] | <NULL> | [NULL]");
  EXPECT_EQ(Column("arrs", "list_transform(stamps, x -> epoch_us(x))"), "[946684800000000] | [] | <NULL> | [NULL]");
  EXPECT_EQ(Column("arrs", "uuids"), "[123e4567-e89b-12d3-a456-426614174000] | [] | <NULL> | [NULL]");
  EXPECT_EQ(Column("arrs", "bools"), "[true, false, NULL] | [] | <NULL> | [NULL]");
  EXPECT_EQ(Column("arrs", "list_transform(blobs, x -> hex(x))"), "[00FF] | [] | <NULL> | [NULL]");
  EXPECT_EQ(One("SELECT typeof(nums) FROM arrs LIMIT 1"), "DECIMAL(10,2)[]");
}

TEST_F(PgCopyReaderTest, MultiDimensionalArraysAreRejectedClearly) {
  Exec("CREATE TABLE grid (id int, g int[]); INSERT INTO grid VALUES (1, '{{1,2},{3,4}}')");
  Status st = CopyAll("SELECT * FROM grid", "grid");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kDataError);
  EXPECT_NE(st.message().find("'g'"), std::string::npos) << st;
  EXPECT_NE(st.message().find("2-dimensional"), std::string::npos) << st;
  EXPECT_TRUE(pg_->Query("SELECT 1").ok());
}

TEST_F(PgCopyReaderTest, UnsupportedTypesAsTextWhenAsked) {
  Exec("CREATE TABLE net (id int, addr inet, p point); INSERT INTO net VALUES (1, '192.168.0.1/24', '(1,2)')");
  Status strict = CopyAll("SELECT * FROM net", "net");
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.message().find("'addr'"), std::string::npos) << strict;
  TypeMappingOptions types;
  types.cast_unsupported_to_text = true;
  ASSERT_TRUE(CopyAll("SELECT * FROM net", "net", types).ok());
  EXPECT_EQ(Rows("SELECT * FROM net")[0], (std::vector<std::string>{"1", "192.168.0.1/24", "(1,2)"}));
}

TEST_F(PgCopyReaderTest, ReadsInBoundedBatches) {
  Exec("CREATE TABLE many AS SELECT g AS id, md5(g::text) AS h, g * 0.01 AS x FROM generate_series(1, 100001) g");
  auto columns = DescribeTable(*pg_, "public", "many");
  ASSERT_TRUE(columns.ok()) << columns.status();
  CopyReaderOptions options;
  options.query = "SELECT * FROM public.many";
  options.columns = *columns;
  options.table = "batch";
  auto reader = PgCopyReader::Start(*pg_, *duck_, options);
  ASSERT_TRUE(reader.ok()) << reader.status();
  int batches = 0;
  uint64_t seen = 0;
  int64_t id_sum = 0;
  for (bool more = true; more;) {
    auto next = (*reader)->ReadBatch(10'000);
    ASSERT_TRUE(next.ok()) << next.status();
    more = *next;
    uint64_t in_table = std::stoull(One("SELECT count(*) FROM batch"));
    EXPECT_EQ(in_table, (*reader)->batch_rows());  // only this batch is held
    EXPECT_LE(in_table, 10'000u);
    if (in_table > 0) ++batches;
    seen += in_table;
    id_sum += std::stoll(One("SELECT coalesce(sum(id), 0) FROM batch"));
    EXPECT_EQ(One("SELECT count(*) FROM batch WHERE h <> md5(id::VARCHAR)"), "0");
  }
  EXPECT_EQ(batches, 11);
  EXPECT_EQ(seen, 100001u);
  EXPECT_EQ((*reader)->rows(), 100001u);
  EXPECT_EQ(id_sum, int64_t{100001} * 100002 / 2);
  EXPECT_GT((*reader)->bytes(), 100001u * 40);
  EXPECT_TRUE((*reader)->finished());
  auto again = (*reader)->ReadBatch(10);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_TRUE(pg_->Query("SELECT 1").ok());

  // Keeping batches accumulates everything in one table.
  options.keep_previous_batches = true;
  options.table = "all_rows";
  auto keeper = PgCopyReader::Start(*pg_, *duck_, options);
  ASSERT_TRUE(keeper.ok()) << keeper.status();
  int calls = 0;
  for (bool more = true; more; ++calls) {
    auto next = (*keeper)->ReadBatch(30'000);
    ASSERT_TRUE(next.ok()) << next.status();
    more = *next;
  }
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(One("SELECT count(DISTINCT id) FROM all_rows"), "100001");
}

TEST_F(PgCopyReaderTest, AbandoningAReaderLeavesTheConnectionUsable) {
  Exec("CREATE TABLE long_one AS SELECT g AS id FROM generate_series(1, 200000) g");
  {
    CopyReaderOptions options;
    options.query = "SELECT * FROM long_one";
    options.table = "partial";
    auto reader = PgCopyReader::Start(*pg_, *duck_, options);
    ASSERT_TRUE(reader.ok()) << reader.status();
    auto first = (*reader)->ReadBatch(1000);
    ASSERT_TRUE(first.ok());
    EXPECT_TRUE(*first);
  }  // destroyed mid-stream
  auto after = pg_->Query("SELECT count(*) AS n FROM long_one");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->Get(0, "n"), "200000");

  CopyReaderOptions options;
  options.query = "SELECT * FROM long_one";
  options.table = "partial";
  auto reader = PgCopyReader::Start(*pg_, *duck_, options);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->ReadBatch(10).ok());
  ASSERT_TRUE((*reader)->Cancel().ok());
  auto cancelled = (*reader)->ReadBatch(10);
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.status().code(), StatusCode::kCancelled);
  EXPECT_TRUE(pg_->Query("SELECT 1").ok());
}

TEST_F(PgCopyReaderTest, ServerErrorsMidStreamFailTheRead) {
  CopyReaderOptions options;
  options.query = "SELECT g AS id, 1 / (g - 5000) AS inv FROM generate_series(1, 10000) g";
  options.table = "midway";
  auto reader = PgCopyReader::Start(*pg_, *duck_, options);
  ASSERT_TRUE(reader.ok()) << reader.status();
  Status failed;
  for (int i = 0; i < 100 && failed.ok(); ++i) {
    auto more = (*reader)->ReadBatch(100);
    if (!more.ok()) failed = more.status();
    if (more.ok() && !*more) break;
  }
  ASSERT_FALSE(failed.ok()) << "the division by zero at row 5000 was not reported";
  EXPECT_EQ(failed.code(), StatusCode::kDataError) << failed;
  EXPECT_NE(failed.message().find("22012"), std::string::npos) << failed;
  EXPECT_FALSE((*reader)->ReadBatch(100).ok());  // stays failed
  EXPECT_TRUE(pg_->Query("SELECT 1").ok());
}

TEST_F(PgCopyReaderTest, LosingTheServerMidStreamIsRetryable) {
  Exec("CREATE TABLE wide AS SELECT g AS id, repeat(md5(g::text), 4) AS pad FROM generate_series(1, 300000) g");
  CopyReaderOptions options;
  options.query = "SELECT * FROM wide";
  options.table = "wide";
  auto reader = PgCopyReader::Start(*pg_, *duck_, options);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_TRUE((*reader)->ReadBatch(100).ok());
  auto killer = Connect();
  auto pids =
      killer->Query("SELECT pid FROM pg_stat_activity WHERE query LIKE 'COPY (SELECT%' AND pid <> pg_backend_pid()");
  ASSERT_TRUE(pids.ok()) << pids.status();
  ASSERT_EQ(pids->rows.size(), 1u);
  ASSERT_TRUE(killer->Query("SELECT pg_terminate_backend(" + pids->Get(0, "pid") + ")").ok());
  Status failed;
  for (int i = 0; i < 1000 && failed.ok(); ++i) {
    auto more = (*reader)->ReadBatch(10'000);
    if (!more.ok()) failed = more.status();
    if (more.ok() && !*more) break;
  }
  ASSERT_FALSE(failed.ok()) << "all rows arrived although the backend was terminated";
  EXPECT_TRUE(failed.retryable()) << failed;
  EXPECT_LT((*reader)->rows(), 300000u);
}

TEST_F(PgCopyReaderTest, ReadsThroughAnImportedSnapshot) {
  Exec("CREATE TABLE snap_rows AS SELECT g AS id FROM generate_series(1, 1000) g");
  auto exporter = Connect();
  auto id = exporter->ExportSnapshot();
  ASSERT_TRUE(id.ok()) << id.status();
  Exec("DELETE FROM snap_rows WHERE id > 10");
  ASSERT_TRUE(pg_->ImportSnapshot(*id).ok());
  ASSERT_TRUE(CopyAll("SELECT * FROM snap_rows", "snap_rows").ok());
  EXPECT_EQ(One("SELECT count(*) FROM snap_rows"), "1000");
  ASSERT_TRUE(pg_->Execute("COMMIT").ok());
  ASSERT_TRUE(CopyAll("SELECT * FROM snap_rows", "snap_rows").ok());
  EXPECT_EQ(One("SELECT count(*) FROM snap_rows"), "10");
}

TEST_F(PgCopyReaderTest, BadQueriesFailBeforeCreatingAnything) {
  CopyReaderOptions options;
  options.query = "SELECT * FROM not_there";
  options.table = "never";
  auto reader = PgCopyReader::Start(*pg_, *duck_, options);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.status().message().find("42P01"), std::string::npos) << reader.status();
  EXPECT_FALSE(duck_->Query("SELECT * FROM never").ok());
  options.table = "";
  EXPECT_FALSE(PgCopyReader::Start(*pg_, *duck_, options).ok());
}

TEST_F(PgCopyReaderTest, StreamsIntoARowStreamAndKeepsTheFirstAndLastKey) {
  Exec("CREATE TABLE streamed (id bigint, label text, tags int[], amount numeric(8,2))");
  Exec(
      "INSERT INTO streamed SELECT g * 5, CASE WHEN g % 3 = 0 THEN NULL ELSE 'l' || g END, ARRAY[g, NULL], g / 8.0 "
      "FROM generate_series(1, 5000) g");
  CopyReaderOptions options;
  options.query = "SELECT * FROM streamed ORDER BY id";
  options.last_value_column = "id";
  auto reader = PgCopyReader::StartStream(*pg_, options);
  ASSERT_TRUE(reader.ok()) << reader.status();
  PgCopyReader* copy = reader->get();
  std::vector<std::unique_ptr<engine::RowProducer>> producers;
  producers.push_back(std::move(*reader));
  auto stream =
      engine::RowStream::Create(*duck_, "streamed_rows", TargetColumns(copy->columns()), std::move(producers));
  ASSERT_TRUE(stream.ok()) << stream.status();
  EXPECT_EQ(
      Rows("SELECT count(*), count(label), sum(id), sum(amount), max(tags[1]), count(tags[2]) FROM streamed_rows"),
      (std::vector<std::vector<std::string>>{{"5000", "3334", "62512500", "1562825.00", "5000", "0"}}));
  EXPECT_TRUE((*stream)->finished());
  EXPECT_EQ(copy->rows(), 5000u);
  EXPECT_EQ(copy->first_value(), 5);
  EXPECT_EQ(copy->last_value(), 25000);

  // The key column must be an integer column of the query.
  options.last_value_column = "label";
  auto not_integer = PgCopyReader::StartStream(*pg_, options);
  ASSERT_FALSE(not_integer.ok());
  EXPECT_NE(not_integer.status().message().find("'label' is text, not an integer"), std::string::npos)
      << not_integer.status();
  options.last_value_column = "missing";
  EXPECT_FALSE(PgCopyReader::StartStream(*pg_, options).ok());
  // A stream reader has no table to fill.
  options.last_value_column = "";
  auto plain = PgCopyReader::StartStream(*pg_, options);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE((*plain)->ReadBatch(10).ok());
}

// Decode throughput of a 10-column mixed table (the server's COPY is usually the bottleneck).
TEST_F(PgCopyReaderTest, Throughput) {
  const int n = 500'000;
  Exec(fmt::format(R"sql(CREATE TABLE perf AS SELECT g::bigint AS id, (g % 1000)::int AS n, g % 2 = 0 AS flag,
      g * 0.5::float8 AS x, 'customer ' || (g % 5000) AS name, md5(g::text) AS code,
      DATE '2020-01-01' + (g % 1000) AS day, TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * INTERVAL '1 second' AS at,
      (g * 7 / 100.0)::numeric(12,2) AS amount, CASE WHEN g % 10 = 0 THEN NULL ELSE g END AS maybe
      FROM generate_series(1, {}) g)sql",
                   n));
  CopyReaderOptions options;
  options.query = "SELECT * FROM perf";
  options.table = "perf";
  std::clock_t cpu_start = std::clock();
  auto start = std::chrono::steady_clock::now();
  auto reader = PgCopyReader::Start(*pg_, *duck_, options);
  ASSERT_TRUE(reader.ok()) << reader.status();
  uint64_t rows = 0;
  for (bool more = true; more;) {
    auto next = (*reader)->ReadBatch(100'000);
    ASSERT_TRUE(next.ok()) << next.status();
    more = *next;
    rows += (*reader)->batch_rows();
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  EXPECT_EQ(rows, static_cast<uint64_t>(n));
  std::printf(
      "[ perf     ] pg binary COPY -> DuckDB: %.2f M rows/s wall, %.2f M rows/s per client CPU second, "
      "%.1f MB/s\n",
      n / seconds / 1e6, n / cpu / 1e6, static_cast<double>((*reader)->bytes()) / seconds / 1e6);
  EXPECT_GT(n / cpu, 200'000.0);
}

}  // namespace
}  // namespace sluice::postgres
