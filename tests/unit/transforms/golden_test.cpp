// Declarative golden tests of steps and checks: each tests/golden/{steps,checks}/NAME.sql starts
// with a YAML header in `-- ` comments (a `steps:` or a `checks:` list, as in a pipeline file),
// then SQL that creates the table `input` (and `target_current`, for steps that read the target).
// What the steps make of `input` (the columns with their types, then every row, sorted), or what
// each check says about it, must equal NAME.expected. SLUICE_UPDATE_GOLDEN=1 rewrites the
// .expected files from what the code does now (review the diff before committing it).

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/strings.hpp"
#include "transforms/check.hpp"
#include "transforms/step.hpp"
#include "unit/engine_support.hpp"

namespace sluice::transforms {
namespace {
namespace fs = std::filesystem;

fs::path GoldenRoot() {
  const char* source = std::getenv("SLUICE_SOURCE_DIR");
  return fs::path(source != nullptr ? source : SLUICE_SOURCE_DIR_DEFAULT) / "tests" / "golden";
}

std::vector<fs::path> GoldenCases() {
  std::vector<fs::path> cases;
  for (const char* kind : {"steps", "checks"}) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(GoldenRoot() / kind, ec)) {
      if (entry.path().extension() == ".sql") cases.push_back(entry.path());
    }
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The leading `-- ` comment lines (the YAML header) and the SQL after them.
std::pair<std::string, std::string> SplitHeader(const std::string& text) {
  std::istringstream lines(text);
  std::string line, header, sql;
  bool in_header = true;
  while (std::getline(lines, line)) {
    if (in_header && StartsWith(line, "--")) {
      header += line.substr(line.size() > 2 && line[2] == ' ' ? 3 : 2) + "\n";
      continue;
    }
    in_header = false;
    sql += line + "\n";
  }
  return {header, sql};
}

std::string Render(const engine::TextResult& result) {
  std::string out;
  for (const auto& row : result.rows) {
    std::vector<std::string> cells;
    for (const auto& cell : row) cells.push_back(cell ? *cell : "NULL");
    out += Join(cells, " | ") + "\n";
  }
  return out;
}

class GoldenTest : public ::testing::TestWithParam<fs::path>, protected test_support::WithEngine {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenEngine());
    RegisterBuiltinSteps(steps_);
    RegisterBuiltinChecks(checks_);
  }

  /// What the header's steps make of `input`, as text; an error is part of the output too, since
  /// its message is what users read.
  Result<std::string> RunSteps(const config::Value& header) {
    SLUICE_ASSIGN_OR_RETURN(auto steps, BuildSteps(steps_, *header.Find("steps"), "job 'golden'"));
    bool target_exists =
        conn_->Query("SELECT 1 FROM duckdb_tables() WHERE table_name = 'target_current'")->rows.size() == 1;
    StepContext context{*conn_, "run-1", Now(), "silver.golden", target_exists, Secret("golden-mask-key")};
    std::string relation = "input", rejects;
    for (size_t i = 0; i < steps.size(); ++i) {
      SLUICE_ASSIGN_OR_RETURN(auto set_aside, steps[i]->Rejects(context, relation));
      if (set_aside) {
        SLUICE_ASSIGN_OR_RETURN(auto rows, conn_->Query("SELECT * FROM (" + set_aside->select_sql + ") ORDER BY ALL"));
        rejects += fmt::format("rejects of step {}:\n{}", i + 1, Render(rows));
      }
      SLUICE_ASSIGN_OR_RETURN(auto sql, steps[i]->Rewrite(context, relation));
      relation = fmt::format("step_{}", i + 1);
      SLUICE_TRY(conn_->Execute(fmt::format("CREATE TEMP VIEW {} AS {}", relation, sql)));
    }
    SLUICE_ASSIGN_OR_RETURN(auto columns, conn_->Describe("SELECT * FROM " + relation));
    std::vector<std::string> described;
    for (const auto& c : columns) described.push_back(c.name + " " + c.type);
    SLUICE_ASSIGN_OR_RETURN(auto rows, conn_->Query("SELECT * FROM " + relation + " ORDER BY ALL"));
    std::string out = "columns: " + Join(described, ", ") + "\n" + Render(rows) + rejects;
    WritePlan plan;
    for (const auto& step : steps) step->AdjustWrite(&plan);
    if (!plan.partition_by.empty() || plan.target_file_bytes || plan.write != WritePlan{}.write) {
      out += fmt::format("write: {}, partition_by: [{}], file_size: {}\n", config::ToString(plan.write),
                         Join(plan.partition_by, ", "),
                         plan.target_file_bytes ? std::to_string(*plan.target_file_bytes) : "default");
    }
    return out;
  }

  /// Each check of the header on `input`: its verdict, failing rows and sentence.
  Result<std::string> RunChecks(const config::Value& header) {
    SLUICE_ASSIGN_OR_RETURN(auto checks, BuildChecks(checks_, *header.Find("checks"), "job 'golden'"));
    std::string out;
    for (const auto& check : checks) {
      CheckContext context{*conn_, "input", "silver.golden", Now()};
      SLUICE_ASSIGN_OR_RETURN(auto result, check->Evaluate(context));
      out += fmt::format("{}: {}, {} failing: {}\n", result.check, result.passed ? "passed" : "failed",
                         result.failed_rows, result.detail);
    }
    return out;
  }

  /// A fixed clock (2024-10-04 00:00 UTC), so freshness and run-dated columns are reproducible.
  static TimePoint Now() { return TimePoint{} + std::chrono::hours(24 * 20000); }

  StepRegistry steps_;
  CheckRegistry checks_;
};

TEST_P(GoldenTest, OutputMatchesTheExpectedFile) {
  const fs::path& path = GetParam();
  auto [header_text, sql] = SplitHeader(ReadText(path));
  // Named relative to tests/golden, so messages in .expected files hold on any checkout.
  std::string name = (path.parent_path().filename() / path.filename()).string();
  auto header = config::ParseYaml(header_text, name, {});
  ASSERT_TRUE(header.ok()) << header.status();
  ASSERT_TRUE(header->IsMap() && (header->Find("steps") != nullptr) != (header->Find("checks") != nullptr))
      << path << ": the header needs exactly one of steps: or checks:";
  Status setup = conn_->Execute(sql);
  ASSERT_TRUE(setup.ok()) << path << ": " << setup;

  auto output = header->Find("steps") != nullptr ? RunSteps(*header) : RunChecks(*header);
  std::string actual = output.ok() ? *output : "error: " + output.status().message() + "\n";

  fs::path expected_path = fs::path(path).replace_extension(".expected");
  if (const char* update = std::getenv("SLUICE_UPDATE_GOLDEN"); update != nullptr && std::string(update) == "1") {
    std::ofstream(expected_path, std::ios::binary) << actual;
  }
  ASSERT_TRUE(fs::exists(expected_path)) << expected_path
                                         << " is missing; write it with SLUICE_UPDATE_GOLDEN=1 and review it";
  EXPECT_EQ(actual, ReadText(expected_path)) << "for " << path;
}

INSTANTIATE_TEST_SUITE_P(Golden, GoldenTest, ::testing::ValuesIn(GoldenCases()),
                         [](const ::testing::TestParamInfo<fs::path>& info) {
                           std::string name =
                               info.param.parent_path().filename().string() + "_" + info.param.stem().string();
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace sluice::transforms
