// docs/notifications.md carries each notifier's key tables generated from its descriptor; this
// keeps them equal to the code. SLUICE_UPDATE_DOCS=1 rewrites them instead.

#include <gtest/gtest.h>

#include <fstream>

#include "notify/email/email_notifier.hpp"
#include "notify/notifier.hpp"
#include "unit/docs_support.hpp"

namespace sluice::notify {
namespace {

void ExpectSectionCurrent(const std::string& name, const std::string& generated) {
  const std::string relative = "docs/notifications.md";
  std::string doc = sluice::test_support::ReadSourceFile(relative);
  std::string current = sluice::test_support::KeysSection(doc, name);
  ASSERT_NE(current, "(missing)") << relative << " lacks <!-- keys:" << name << ":begin/end --> markers";
  if (std::getenv("SLUICE_UPDATE_DOCS") != nullptr) {
    std::string begin = "<!-- keys:" + name + ":begin -->\n";
    doc.replace(doc.find(begin) + begin.size(), current.size(), generated);
    std::ofstream(sluice::test_support::DocsSourceDir() / relative) << doc;
    return;
  }
  EXPECT_EQ(current, generated) << relative << " section " << name << " is stale: run with SLUICE_UPDATE_DOCS=1";
}

TEST(NotifyDocsTest, EveryNotifierHasItsKeyTable) {
  NotifierRegistry registry;
  RegisterBuiltinNotifiers(registry);
  for (const auto& notifier : registry.descriptors()) {
    ExpectSectionCurrent("notifier_" + notifier.type, config::OptionsMarkdown(notifier.options));
  }
  ExpectSectionCurrent("notifier_email_smtp", config::OptionsMarkdown(EmailSmtpOptionSpecs()));
}

}  // namespace
}  // namespace sluice::notify
