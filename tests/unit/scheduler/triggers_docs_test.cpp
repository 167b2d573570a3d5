// docs/triggers.md embeds the key tables the trigger parsers validate with; this keeps them equal.

#include <gtest/gtest.h>

#include "config/option_reader.hpp"
#include "config/options.hpp"
#include "scheduler/triggers/trigger.hpp"
#include "unit/docs_support.hpp"

namespace sluice::scheduler::triggers {
namespace {

TEST(TriggersDocsTest, EveryKindIsDocumentedWithItsKeyTable) {
  const std::string doc = sluice::test_support::ReadSourceFile("docs/triggers.md");
  ASSERT_FALSE(doc.empty()) << "cannot read docs/triggers.md under " << sluice::test_support::DocsSourceDir();
  for (const auto& kind : BuiltinTriggers().Names()) {
    EXPECT_NE(doc.find("| `" + kind + "` |"), std::string::npos) << kind << " is missing from the kinds table";
    const TriggerDescriptor* descriptor = BuiltinTriggers().Find(kind);
    for (const auto& bad : config::InvalidDefaults(descriptor->options)) ADD_FAILURE() << kind << ": " << bad;
    if (descriptor->options.empty()) continue;
    EXPECT_EQ(sluice::test_support::KeysSection(doc, kind), config::OptionsMarkdown(descriptor->options)) << kind;
  }
}

}  // namespace
}  // namespace sluice::scheduler::triggers
