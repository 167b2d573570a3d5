#include "connectors/postgres/pg_script.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sluice::postgres {
namespace {

using ::testing::HasSubstr;

std::vector<std::pair<int, std::string>> Split(std::string_view text) {
  auto statements = SplitScript(text);
  EXPECT_TRUE(statements.ok()) << statements.status();
  std::vector<std::pair<int, std::string>> out;
  if (!statements.ok()) return out;
  for (const auto& s : *statements) out.emplace_back(s.line, s.sql);
  return out;
}

std::string SplitError(std::string_view text) {
  auto statements = SplitScript(text);
  EXPECT_FALSE(statements.ok());
  return statements.ok() ? "" : statements.status().message();
}

TEST(PgScriptSplitTest, SplitsAtTopLevelSemicolonsWithTheirLines) {
  EXPECT_EQ(Split("CREATE TABLE a (x int);\n\nINSERT INTO a VALUES (1);\n  SELECT 1"),
            (std::vector<std::pair<int, std::string>>{
                {1, "CREATE TABLE a (x int)"}, {3, "INSERT INTO a VALUES (1)"}, {4, "SELECT 1"}}));
}

TEST(PgScriptSplitTest, QuotesCommentsAndDollarBodiesKeepTheirSemicolons) {
  auto statements = Split(
      "-- a comment; not a statement\n"
      "INSERT INTO t VALUES ('a;b', 'it''s;', E'x\\';y');\n"
      "/* block; /* nested; */ still comment; */\n"
      "SELECT \"odd;name\" FROM \"t\"\"q\";\n"
      "CREATE FUNCTION f() RETURNS int AS $body$\n"
      "BEGIN RETURN 1; END;\n"
      "$body$ LANGUAGE plpgsql;\n"
      "DO $$ BEGIN PERFORM 1; END $$;\n"
      "CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2);\n"
      "SELECT $1::int, a$b$ FROM t;\n"
      ";;  -- only a comment\n");
  ASSERT_EQ(statements.size(), 6u);
  EXPECT_EQ(statements[0], (std::pair<int, std::string>{2, "INSERT INTO t VALUES ('a;b', 'it''s;', E'x\\';y')"}));
  EXPECT_EQ(statements[1].first, 4);
  EXPECT_EQ(statements[1].second, "SELECT \"odd;name\" FROM \"t\"\"q\"");
  EXPECT_EQ(statements[2].first, 5);
  EXPECT_THAT(statements[2].second, HasSubstr("BEGIN RETURN 1; END;\n$body$ LANGUAGE plpgsql"));
  EXPECT_EQ(statements[3], (std::pair<int, std::string>{8, "DO $$ BEGIN PERFORM 1; END $$"}));
  EXPECT_EQ(statements[4].first, 9);
  EXPECT_THAT(statements[4].second, HasSubstr("(SELECT 1; SELECT 2)"));
  EXPECT_EQ(statements[5], (std::pair<int, std::string>{10, "SELECT $1::int, a$b$ FROM t"}));
}

TEST(PgScriptSplitTest, LinesCountNewlinesInsideStringsAndComments) {
  auto statements = Split("SELECT 'multi\nline\ntext';\n/*\n\n*/ SELECT 2;\nSELECT $x$\n$x$;\nSELECT 3");
  ASSERT_EQ(statements.size(), 4u);
  EXPECT_EQ(statements[1].first, 6);
  EXPECT_EQ(statements[2].first, 7);
  EXPECT_EQ(statements[3].first, 9);
}

TEST(PgScriptSplitTest, UnterminatedConstructsNameTheirLine) {
  EXPECT_THAT(SplitError("SELECT 1;\nSELECT 'open"), HasSubstr("line 2: a string literal"));
  EXPECT_THAT(SplitError("SELECT 1;\n\n/* open /* nested */"), HasSubstr("line 3: a /* comment is never closed"));
  EXPECT_THAT(SplitError("DO $f$ BEGIN END $g$;"), HasSubstr("line 1: the dollar-quoted text opened with $f$"));
  EXPECT_THAT(SplitError("SELECT \"x;"), HasSubstr("line 1: a quoted identifier"));
}

TEST(PgScriptSplitTest, BackslashIsOrdinaryOutsideEStrings) {
  // Standard strings end at the quote even after a backslash: 'a\' is the text a\.
  EXPECT_EQ(Split("SELECT 'a\\'; SELECT 2").size(), 2u);
  EXPECT_EQ(Split("SELECT e'a\\'b'; SELECT 2").size(), 2u);
}

TEST(PgScriptSplitTest, KeywordsAndErrorPositions) {
  EXPECT_EQ(FirstKeyword("commit;"), "COMMIT");
  EXPECT_EQ(FirstKeyword("(SELECT 1)"), "");
  EXPECT_EQ(LineOfPosition("SELECT 1\nFROM x\nWHERE y", 1), 1);
  EXPECT_EQ(LineOfPosition("SELECT 1\nFROM x\nWHERE y", 10), 2);
  EXPECT_EQ(LineOfPosition("SELECT 'é'\nFROM x", 12), 2);  // positions count characters, not bytes
}

}  // namespace
}  // namespace sluice::postgres
