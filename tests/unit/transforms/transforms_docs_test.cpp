// docs/transforms.md and docs/checks.md carry tables generated from the step and check
// descriptors; this keeps them equal to the code. SLUICE_UPDATE_DOCS=1 rewrites them instead.

#include <gtest/gtest.h>

#include <fstream>

#include "common/strings.hpp"
#include "transforms/check.hpp"
#include "transforms/step.hpp"
#include "unit/docs_support.hpp"

namespace sluice::transforms {
namespace {

using sluice::test_support::KeysSection;

/// Compares (or, with SLUICE_UPDATE_DOCS=1, rewrites) the keys:NAME section of `relative_doc`.
void ExpectSectionCurrent(const std::string& relative_doc, const std::string& name, const std::string& generated) {
  std::string doc = sluice::test_support::ReadSourceFile(relative_doc);
  ASSERT_FALSE(doc.empty()) << "cannot read " << relative_doc;
  std::string current = KeysSection(doc, name);
  ASSERT_NE(current, "(missing)") << relative_doc << " lacks <!-- keys:" << name << ":begin/end --> markers";
  if (std::getenv("SLUICE_UPDATE_DOCS") != nullptr) {
    std::string begin = "<!-- keys:" + name + ":begin -->\n";
    size_t at = doc.find(begin) + begin.size();
    doc.replace(at, current.size(), generated);
    std::ofstream(sluice::test_support::DocsSourceDir() / relative_doc) << doc;
    return;
  }
  EXPECT_EQ(current, generated) << relative_doc << " section " << name
                                << " is stale: run the transforms tests with SLUICE_UPDATE_DOCS=1";
}

TEST(TransformsDocsTest, EveryStepHasASectionWithItsOptionTable) {
  StepRegistry registry;
  RegisterBuiltinSteps(registry);
  std::string doc = sluice::test_support::ReadSourceFile("docs/transforms.md");
  for (const auto& step : registry.descriptors()) {
    EXPECT_NE(doc.find("### `" + step.name + "`"), std::string::npos) << "docs/transforms.md has no section for " << step.name;
    if (!step.options.empty()) ExpectSectionCurrent("docs/transforms.md", "step_" + step.name, config::OptionsMarkdown(step.options));
  }
}

/// One row per check: its name, keys (required ones marked) and what it asserts.
std::string ChecksTable(const CheckRegistry& registry) {
  std::string out = "| check | keys | passes when |\n| --- | --- | --- |\n";
  for (const auto& check : registry.descriptors()) {
    std::vector<std::string> keys;
    for (const auto& spec : check.options) keys.push_back(fmt::format("`{}`{}", spec.key, spec.required ? " (required)" : ""));
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
