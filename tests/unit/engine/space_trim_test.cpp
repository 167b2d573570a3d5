#include "engine/space_trim.hpp"

#include <gtest/gtest.h>

#include "engine/engine.hpp"

namespace sluice::engine {
namespace {

// sluice_trim must strip exactly what DuckDB's trim() strips: it replaces trim() in the clean step.
TEST(SpaceTrimTest, AgreesWithDuckDbTrimOnEdgeCases) {
  auto db = Database::Open({});
  ASSERT_TRUE(db.ok()) << db.status();
  auto connection = (*db)->Connect();
  ASSERT_TRUE(connection.ok()) << connection.status();
  auto name = EnsureSpaceTrimFunction(**connection);
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(*name, "sluice_trim");
  ASSERT_TRUE(EnsureSpaceTrimFunction(**connection).ok());  // a second call finds it registered

  // Every separator of category Zs, some that are not (tab, line breaks, zero-width space U+200B,
  // ideographic full stop), and multi-byte letters of 2, 3 and 4 bytes at the edges.
  const char* kEdges =
      "[' ', chr(160), chr(5760), chr(8192), chr(8197), chr(8202), chr(8239), chr(8287), chr(12288), "
      "chr(9), chr(10), chr(13), chr(8203), chr(12290), 'é', '你', '😀', 'a', '']";
  auto result =
      (*connection)
          ->Query(fmt::format(
              "WITH edges AS (SELECT unnest({0}) AS e), inner_text AS (SELECT unnest(['', 'x', ' mid dle ', 'é', "
              "'😀😀', chr(160)]) AS t), values_ AS (SELECT l.e || t || r.e AS v FROM edges l, inner_text, edges r "
              "UNION ALL SELECT l.e || l.e || t || r.e || r.e FROM edges l, inner_text, edges r UNION ALL SELECT NULL) "
              "SELECT count(*) AS n, count(*) FILTER (WHERE sluice_trim(v) IS DISTINCT FROM trim(v)) AS differ, "
              "min(CASE WHEN sluice_trim(v) IS DISTINCT FROM trim(v) THEN v END) AS example FROM values_",
              kEdges));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_GT(result->GetInt(0, "n"), 2000);
  EXPECT_EQ(result->GetInt(0, "differ"), 0) << "first differing value: " << result->Get(0, "example");

  auto spot = (*connection)
                  ->Query(
                      "SELECT '[' || sluice_trim(chr(12288) || ' a b ' || chr(160)) || ']' AS a, "
                      "'[' || sluice_trim(chr(9) || 'x' || chr(10)) || ']' AS b, sluice_trim(NULL) IS NULL AS c, "
                      "'[' || sluice_trim('   ') || ']' AS d");
  ASSERT_TRUE(spot.ok()) << spot.status();
  EXPECT_EQ(spot->Get(0, "a"), "[a b]");
  EXPECT_EQ(spot->Get(0, "b"), "[\tx\n]");
  EXPECT_EQ(spot->Get(0, "c"), "true");
  EXPECT_EQ(spot->Get(0, "d"), "[]");
}

// Chunks in which no value needs trimming share the input's strings; the result must still be a
// value of its own: equal to the input, NULLs kept, usable next to the input and after it.
TEST(SpaceTrimTest, ChunksWithNothingToTrimKeepEveryValue) {
  auto db = Database::Open({});
  ASSERT_TRUE(db.ok()) << db.status();
  auto connection = (*db)->Connect();
  ASSERT_TRUE(connection.ok()) << connection.status();
  ASSERT_TRUE(EnsureSpaceTrimFunction(**connection).ok());
  // Inlined (short) and heap (long) strings, NULLs and empty strings, over many chunks; one chunk
  // in the middle holds a value that does need trimming.
  ASSERT_TRUE((*connection)
                  ->Execute("CREATE TABLE t AS SELECT i, CASE WHEN i % 7 = 0 THEN NULL WHEN i % 11 = 0 THEN '' "
                            "WHEN i = 5000 THEN '  padded  ' WHEN i % 2 = 0 THEN 'v' || i "
                            "ELSE 'a much longer value than twelve bytes ' || i || '.' END AS v FROM range(20000) r(i)")
                  .ok());
  auto result =
      (*connection)
          ->Query(
              "SELECT count(*) AS n, count(*) FILTER (WHERE sluice_trim(v) IS DISTINCT FROM trim(v)) AS differ, "
              "count(*) FILTER (WHERE sluice_trim(v) IS NULL) AS nulls, "
              "sum(length(sluice_trim(v) || v)) = sum(2 * length(trim(v))) + 4 AS lengths_add_up, "
              "max(CASE WHEN i = 5000 THEN '[' || sluice_trim(v) || ']' END) AS padded FROM t");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->GetInt(0, "n"), 20000);
  EXPECT_EQ(result->GetInt(0, "differ"), 0);
  EXPECT_EQ(result->GetInt(0, "nulls"), 2858);
  EXPECT_EQ(result->Get(0, "lengths_add_up"), "true");
  EXPECT_EQ(result->Get(0, "padded"), "[padded]");
}

}  // namespace
}  // namespace sluice::engine
