// docs/transforms.md and docs/checks.md carry tables generated from the step and check
// descriptors; this keeps them equal to the code. SLUICE_UPDATE_DOCS=1 rewrites them instead.

#include <gtest/gtest.h>

#include "common/strings.hpp"
#include "config/option_reader.hpp"
#include "transforms/check.hpp"
#include "transforms/step.hpp"
#include "transforms/steps/mask/mask_step.hpp"
#include "unit/docs_support.hpp"

namespace sluice::transforms {
namespace {

void ExpectSectionCurrent(const std::string& relative_doc, const std::string& name, const std::string& generated) {
  std::string problem = sluice::test_support::UpdateOrCompareKeysSection(relative_doc, name, generated);
  EXPECT_TRUE(problem.empty()) << problem;
}

TEST(TransformsDocsTest, EveryStepHasASectionWithItsOptionTable) {
  StepRegistry registry;
  RegisterBuiltinSteps(registry);
  std::string doc = sluice::test_support::ReadSourceFile("docs/transforms.md");
  for (const auto& step : registry.descriptors()) {
    EXPECT_NE(doc.find("### `" + step.name + "`"), std::string::npos)
        << "docs/transforms.md has no section for " << step.name;
    EXPECT_TRUE(config::InvalidDefaults(step.options).empty()) << step.name;
    if (!step.options.empty())
      ExpectSectionCurrent("docs/transforms.md", "step_" + step.name, config::OptionsMarkdown(step.options));
  }
}

/// The map form of one column of mask: (the step and the job-level key share it).
TEST(TransformsDocsTest, TheMaskColumnKeysAreCurrent) {
  EXPECT_TRUE(config::InvalidDefaults(ColumnMaskKeys()).empty());
  ExpectSectionCurrent("docs/transforms.md", "mask_column", config::OptionsMarkdown(ColumnMaskKeys()));
}

/// One row per check: its name, keys (required ones marked) and what it asserts.
std::string ChecksTable(const CheckRegistry& registry) {
  std::string out = "| check | keys | passes when |\n| --- | --- | --- |\n";
  for (const auto& check : registry.descriptors()) {
    std::vector<std::string> keys;
    for (const auto& spec : check.options)
      keys.push_back(fmt::format("`{}`{}", spec.key, spec.required ? " (required)" : ""));
    out += fmt::format("| `{}` | {} | {} |\n", check.name, Join(keys, ", "), check.description);
  }
  return out;
}

TEST(TransformsDocsTest, TheChecksTableListsEveryCheck) {
  CheckRegistry registry;
  RegisterBuiltinChecks(registry);
  ExpectSectionCurrent("docs/checks.md", "checks", ChecksTable(registry));
}

}  // namespace
}  // namespace sluice::transforms
