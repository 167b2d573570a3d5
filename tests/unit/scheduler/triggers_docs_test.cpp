// docs/triggers.md embeds the key tables the trigger parsers validate with; this keeps them equal.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/options.hpp"
#include "scheduler/triggers/trigger.hpp"

namespace sluice::scheduler::triggers {
namespace {

std::filesystem::path SourceDir() {
  if (const char* root = std::getenv("SLUICE_SOURCE_DIR"); root != nullptr && *root != '\0') return root;
  return SLUICE_SOURCE_DIR_DEFAULT;
}

/// The text between <!-- keys:NAME:begin --> and <!-- keys:NAME:end -->, or "(missing)".
std::string Section(const std::string& doc, const std::string& name) {
  std::string begin = "<!-- keys:" + name + ":begin -->\n";
  std::string end = "<!-- keys:" + name + ":end -->";
  size_t b = doc.find(begin);
  size_t e = doc.find(end);
  if (b == std::string::npos || e == std::string::npos || e < b) return "(missing)";
  return doc.substr(b + begin.size(), e - b - begin.size());
}

TEST(TriggersDocsTest, EveryKindIsDocumentedWithItsKeyTable) {
  std::ifstream in(SourceDir() / "docs/triggers.md");
  std::ostringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  ASSERT_FALSE(doc.empty()) << "cannot read docs/triggers.md under " << SourceDir();
  for (const auto& kind : BuiltinTriggers().Names()) {
    EXPECT_NE(doc.find("| `" + kind + "` |"), std::string::npos) << kind << " is missing from the kinds table";
    const TriggerDescriptor* descriptor = BuiltinTriggers().Find(kind);
    if (descriptor->options.empty()) continue;
    EXPECT_EQ(Section(doc, kind), config::OptionsMarkdown(descriptor->options)) << kind;
  }
}

}  // namespace
}  // namespace sluice::scheduler::triggers
