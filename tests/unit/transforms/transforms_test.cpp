#include <gtest/gtest.h>

#include "transforms/check.hpp"
#include "transforms/step.hpp"
#include "unit/engine_support.hpp"

namespace sluice::transforms {
namespace {

class TransformsTest : public ::testing::Test, protected test_support::WithEngine {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenEngine());
    RegisterBuiltinSteps(steps_);
    RegisterBuiltinChecks(checks_);
  }

  void Exec(const std::string& sql) {
    Status st = conn_->Execute(sql);
    ASSERT_TRUE(st.ok()) << st << " for " << sql;
  }

  static config::Value Yaml(const std::string& text) {
    auto value = config::ParseYaml(text, "test.yaml", {});
    EXPECT_TRUE(value.ok()) << value.status();
    return value.ok() ? *value : config::Value();
  }

  /// Runs the steps of `yaml` (a steps: list) over `input`, returning the final relation's rows as text.
  Result<engine::TextResult> RunSteps(const std::string& yaml, const std::string& input, bool target_exists = false,
                                      const Secret& mask_key = Secret()) {
    SLUICE_ASSIGN_OR_RETURN(auto steps, BuildSteps(steps_, Yaml(yaml), "job 't'"));
    StepContext context{*conn_,     "run-1",       TimePoint{} + std::chrono::hours(24 * 20000),
                        "silver.t", target_exists, mask_key};
    std::string relation = input;
    int n = 0;
    for (auto& step : steps) {
      SLUICE_ASSIGN_OR_RETURN(auto sql, step->Rewrite(context, relation));
      relation = "s" + std::to_string(++n);
      SLUICE_TRY(conn_->Execute("CREATE OR REPLACE TEMP VIEW " + relation + " AS " + sql));
    }
    return conn_->Query("SELECT * FROM " + relation + " ORDER BY ALL");
  }

  StepRegistry steps_;
  CheckRegistry checks_;
};

TEST_F(TransformsTest, RegistriesListEveryBuiltin) {
  EXPECT_EQ(steps_.Names(), (std::vector<std::string>{"clean", "add_columns", "mask", "sql", "repartition", "merge"}));
  EXPECT_EQ(checks_.Names(), (std::vector<std::string>{"not_null", "unique", "accepted_values", "range", "regex",
                                                       "row_count", "freshness", "foreign_key", "expression", "sql"}));
}

TEST_F(TransformsTest, SnakeCaseSplitsWordsAndAcronyms) {
  EXPECT_EQ(SnakeCase("Country Name"), "country_name");
  EXPECT_EQ(SnakeCase("GDPPerCapita"), "gdp_per_capita");
  EXPECT_EQ(SnakeCase("value (USD)"), "value_usd");
  EXPECT_EQ(SnakeCase("2020"), "_2020");
}

TEST_F(TransformsTest, CleanRenamesTrimsNullsTypesAndDedupes) {
  Exec(
      "CREATE TABLE raw_in AS SELECT * FROM (VALUES ('DE ', ' 2020', '1.5'), ('DE', '2020', '1.5'), ('FR', 'N/A', "
      "''), ('US', '2021', '2')) AS t(\"Country Code\", \"Year\", \"Value\")");
  auto rows = RunSteps("- clean: {names: snake_case, dedupe: true, types: {year: integer, value: double}}", "raw_in");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows.size(), 3u);  // the two DE rows are one after trimming
  EXPECT_EQ(rows->column_names, (std::vector<std::string>{"country_code", "year", "value"}));
  EXPECT_EQ(rows->Get(0, "country_code"), "DE");
  EXPECT_EQ(rows->Get(0, "year"), "2020");
  EXPECT_FALSE(rows->rows[1][1].has_value());  // FR: N/A became NULL
  EXPECT_FALSE(rows->rows[1][2].has_value());  // '' became NULL
}

TEST_F(TransformsTest, MaskStepHashesRedactsAndShowsPartially) {
  Exec(
      "CREATE TABLE accounts AS SELECT * FROM (VALUES ('what do ya want for nothing?', 'Ada', '0176123454821')) "
      "AS t(account, name, phone)");
  auto rows = RunSteps("- mask: {account: hash, name: redact, phone: {method: partial, show_last: 2}}", "accounts",
                       false, Secret("Jefe"));
  ASSERT_TRUE(rows.ok()) << rows.status();
  // RFC 4231 test case 2: HMAC-SHA256 under the key "Jefe".
  EXPECT_EQ(rows->Get(0, "account"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(rows->Get(0, "name"), "***");
  EXPECT_EQ(rows->Get(0, "phone"), "***********21");
  auto typo = BuildSteps(steps_, Yaml("- mask: {account: hsah}"), "job 't'");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("did you mean 'hash'"), std::string::npos) << typo.status();
  // A typo in a column's map form must not fall back to the default method silently.
  auto key_typo = BuildSteps(steps_, Yaml("- mask: {phone: {methd: partial}}"), "job 't'");
  ASSERT_FALSE(key_typo.ok());
  EXPECT_NE(key_typo.status().message().find("did you mean 'method'"), std::string::npos) << key_typo.status();
  EXPECT_FALSE(BuildSteps(steps_, Yaml("- mask: {phone: {method: partial, show_last: -1}}"), "job 't'").ok());
  EXPECT_FALSE(BuildSteps(steps_, Yaml("- mask: {phone: [partial]}"), "job 't'").ok());
}

TEST_F(TransformsTest, CleanNameCollisionsGetSuffixes) {
  Exec("CREATE TABLE collide AS SELECT 1 AS \"Order Id\", 2 AS order_id, 3 AS \"ORDER-ID\"");
  auto rows = RunSteps("- clean: {names: snake_case}", "collide");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->column_names, (std::vector<std::string>{"order_id", "order_id_2", "order_id_3"}));
}

TEST_F(TransformsTest, CleanTypePolicies) {
  Exec("CREATE TABLE typed AS SELECT * FROM (VALUES ('1'), ('x'), (NULL)) AS t(n)");
  auto nulls = RunSteps("- clean: {types: {n: integer}, on_type_error: 'null'}", "typed");
  ASSERT_TRUE(nulls.ok()) << nulls.status();
  EXPECT_EQ(nulls->rows.size(), 3u);
  auto failed = RunSteps("- clean: {types: {n: integer}, on_type_error: fail}", "typed");
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("x"), std::string::npos) << failed.status();

  auto steps = BuildSteps(steps_, Yaml("- clean: {types: {n: integer}, on_type_error: reject}"), "job 't'");
  ASSERT_TRUE(steps.ok()) << steps.status();
  StepContext context{*conn_, "run-1", TimePoint{}, "silver.t", false};
  auto rejects = (*steps)[0]->Rejects(context, "typed");
  ASSERT_TRUE(rejects.ok() && rejects->has_value()) << rejects.status();
  auto rejected = conn_->Query((*rejects)->select_sql);
  ASSERT_TRUE(rejected.ok()) << rejected.status();
  ASSERT_EQ(rejected->rows.size(), 1u);
  EXPECT_EQ(rejected->Get(0, "n"), "x");
  EXPECT_NE(rejected->Get(0, "_reject_reason").find("does not fit INTEGER"), std::string::npos);
  auto kept = conn_->Query("SELECT count(*) AS n FROM (" + *(*steps)[0]->Rewrite(context, "typed") + ")");
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->GetInt(0, "n"), 2);
}

TEST_F(TransformsTest, CleanDedupeOnKeyKeepsLatest) {
  Exec("CREATE TABLE versions AS SELECT * FROM (VALUES (1, 'old', 1), (1, 'new', 2), (2, 'only', 1)) AS t(id, v, seq)");
  auto rows = RunSteps("- clean: {dedupe: {key: [id], order_by: seq}}", "versions");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows.size(), 2u);
  EXPECT_EQ(rows->Get(0, "v"), "new");
}

TEST_F(TransformsTest, CleanUnknownTypeColumnNamesTheNearest) {
  Exec("CREATE TABLE small AS SELECT 1 AS year");
  auto rows = RunSteps("- clean: {types: {yeer: integer}}", "small");
  ASSERT_FALSE(rows.ok());
  EXPECT_NE(rows.status().message().find("did you mean 'year'"), std::string::npos) << rows.status();
}

TEST_F(TransformsTest, AddColumnsShorthandsAndExpressions) {
  Exec("CREATE TABLE events AS SELECT TIMESTAMP '2026-01-02 03:04:05' AS ts, 'f.csv' AS _source_file, 2 AS n");
  auto rows = RunSteps(
      "- add_columns: {etl_timestamp: true, run_id: true, source_filename: true, event_date: ts, doubled: n * 2}",
      "events");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->Get(0, "run_id"), "run-1");
  EXPECT_EQ(rows->Get(0, "source_filename"), "f.csv");
  EXPECT_EQ(rows->Get(0, "event_date"), "2026-01-02");
  EXPECT_EQ(rows->Get(0, "doubled"), "4");
  EXPECT_EQ(rows->Get(0, "etl_timestamp").substr(0, 10), "2024-10-04");
}

TEST_F(TransformsTest, SqlStepSeesInputAndNamedTables) {
  Exec("CREATE TABLE sales AS SELECT * FROM (VALUES ('DE', 1), ('DE', 2), ('FR', 5)) AS t(country, amount)");
  auto rows = RunSteps(
      "- sql: \"WITH x AS (SELECT country, sum(amount) AS total FROM input GROUP BY country) SELECT * FROM x;\"",
      "sales");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows.size(), 2u);
  EXPECT_EQ(rows->Get(0, "total"), "3");
}

TEST_F(TransformsTest, RepartitionAdjustsTheWrite) {
  auto steps = BuildSteps(steps_, Yaml("- repartition: {by: [country], file_size: 64MB}"), "job 't'");
  ASSERT_TRUE(steps.ok()) << steps.status();
  WritePlan plan;
  (*steps)[0]->AdjustWrite(&plan);
  EXPECT_EQ(plan.partition_by, std::vector<std::string>{"country"});
  EXPECT_EQ(*plan.target_file_bytes, 64000000u);  // MB is decimal
}

TEST_F(TransformsTest, MergeUpsertsAndAppliesDeletes) {
  Exec("CREATE TABLE target_current AS SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c')) AS t(id, v)");
  Exec(
      "CREATE TABLE changes AS SELECT * FROM (VALUES (2, 'B', 'update'), (3, NULL, 'delete'), (4, 'd', 'insert')) "
      "AS t(id, v, _change_type)");
  auto rows = RunSteps("- merge: {key: [id]}", "changes", /*target_exists=*/true);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows.size(), 3u);
  EXPECT_EQ(rows->column_names, (std::vector<std::string>{"id", "v"}));
  EXPECT_EQ(rows->Get(0, "v"), "a");
  EXPECT_EQ(rows->Get(1, "v"), "B");
  EXPECT_EQ(rows->Get(2, "id"), "4");
}

TEST_F(TransformsTest, MergeScd2ClosesChangedRowsAndOpensNewOnes) {
  Exec(
      "CREATE TABLE target_current AS SELECT * FROM (VALUES (1, 'a', TIMESTAMP '2020-01-01', NULL::TIMESTAMP, true), "
      "(2, 'b', TIMESTAMP '2020-01-01', NULL::TIMESTAMP, true)) AS t(id, v, valid_from, valid_to, is_current)");
  Exec("CREATE TABLE incoming_rows AS SELECT * FROM (VALUES (1, 'a'), (2, 'B'), (3, 'c')) AS t(id, v)");
  auto rows = RunSteps("- merge: {key: [id], mode: scd2}", "incoming_rows", true);
  ASSERT_TRUE(rows.ok()) << rows.status();
  // id 1 unchanged (1 row), id 2 closed + reopened (2 rows), id 3 new (1 row).
  ASSERT_EQ(rows->rows.size(), 4u);
  auto current = conn_->Query("SELECT id, v FROM s1 WHERE is_current ORDER BY id");
  ASSERT_TRUE(current.ok()) << current.status();
  ASSERT_EQ(current->rows.size(), 3u);
  EXPECT_EQ(current->Get(1, "v"), "B");
  auto closed = conn_->Query("SELECT v, valid_to IS NOT NULL AS closed FROM s1 WHERE NOT is_current");
  ASSERT_TRUE(closed.ok()) << closed.status();
  ASSERT_EQ(closed->rows.size(), 1u);
  EXPECT_EQ(closed->Get(0, "v"), "b");
  EXPECT_EQ(closed->Get(0, "closed"), "true");
}

TEST_F(TransformsTest, UnknownStepNamesTheNearest) {
  auto steps = BuildSteps(steps_, Yaml("- cleen: {}"), "job 't'");
  ASSERT_FALSE(steps.ok());
  EXPECT_NE(steps.status().message().find("did you mean 'clean'"), std::string::npos) << steps.status();
}

class ChecksTest : public TransformsTest {
 protected:
  Result<CheckResult> Evaluate(const std::string& yaml) {
    SLUICE_ASSIGN_OR_RETURN(auto checks, BuildChecks(checks_, Yaml(yaml), "job 't'"));
    CheckContext context{*conn_, "output_rows", "silver.t", TimePoint{} + std::chrono::hours(24 * 20000)};
    return checks[0]->Evaluate(context);
  }
  int64_t Failed(const std::string& yaml) {
    auto result = Evaluate(yaml);
    EXPECT_TRUE(result.ok()) << result.status() << " for " << yaml;
    return result.ok() ? result->failed_rows : -1;
  }
  void SetUp() override {
    TransformsTest::SetUp();
    Exec(
        "CREATE TABLE output_rows AS SELECT * FROM (VALUES ('DE', 2020, 1.0, TIMESTAMP '2024-10-03 12:00:00'), "
        "('DE', 2020, 2.0, TIMESTAMP '2024-10-03 13:00:00'), ('FR', NULL, -1.0, TIMESTAMP '2024-10-01 00:00:00'), "
        "('xx', 2021, 3.0, NULL)) AS t(country, year, value, ts)");
    Exec("CREATE SCHEMA silver");
    Exec("CREATE TABLE silver.countries AS SELECT * FROM (VALUES ('DE'), ('FR')) AS t(code)");
  }
};

TEST_F(ChecksTest, EachCheckCountsItsFailures) {
  EXPECT_EQ(Failed("- not_null: [country, year]"), 1);
  EXPECT_EQ(Failed("- unique: [country, year]"), 2);
  EXPECT_EQ(Failed("- unique: [country, value]"), 0);
  EXPECT_EQ(Failed("- accepted_values: {column: country, values: [DE, FR]}"), 1);
  EXPECT_EQ(Failed("- range: {column: value, min: 0, max: 2.5}"), 2);
  EXPECT_EQ(Failed("- regex: {column: country, pattern: '[A-Z]{2}'}"), 1);
  EXPECT_EQ(Failed("- row_count: {min: 1, max: 10}"), 0);
  EXPECT_EQ(Failed("- row_count: {min: 5}"), 1);
  EXPECT_EQ(Failed("- freshness: {column: ts, max_age: 1 day}"), 0);
  EXPECT_EQ(Failed("- freshness: {column: ts, max_age: 1h}"), 1);
  EXPECT_EQ(Failed("- foreign_key: {column: country, references: silver.countries(code)}"), 1);
  EXPECT_EQ(Failed("- expression: \"value >= 0\""), 1);
  EXPECT_EQ(Failed("- sql: \"SELECT * FROM output WHERE year > 2020\""), 1);
}

TEST_F(ChecksTest, DetailSaysWhatFailed) {
  auto result = Evaluate("- row_count: {min: 5}");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->passed);
  EXPECT_EQ(result->detail, "the output has 4 rows, expected at least 5");
}

TEST_F(ChecksTest, SeverityAndQuarantineAreParsed) {
  auto checks = BuildChecks(checks_,
                            Yaml("- not_null: [year]\n  severity: warn\n- range: {column: value, min: 0}\n  "
                                 "quarantine: true"),
                            "job 't'");
  ASSERT_TRUE(checks.ok()) << checks.status();
  EXPECT_EQ((*checks)[0]->severity, Severity::kWarn);
  EXPECT_TRUE((*checks)[1]->quarantine);
  auto table_quarantine = BuildChecks(checks_, Yaml("- unique: [id]\n  quarantine: true"), "job 't'");
  ASSERT_FALSE(table_quarantine.ok());
  EXPECT_NE(table_quarantine.status().message().find("cannot quarantine"), std::string::npos);
  auto unknown = BuildChecks(checks_, Yaml("- not_nul: [a]"), "job 't'");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("did you mean 'not_null'"), std::string::npos);
}

}  // namespace
}  // namespace sluice::transforms
