// docs/notifications.md carries each notifier's key tables generated from its descriptor; this
// keeps them equal to the code. SLUICE_UPDATE_DOCS=1 rewrites them instead.

#include <gtest/gtest.h>

#include "config/option_reader.hpp"
#include "notify/email/email_notifier.hpp"
#include "notify/notifier.hpp"
#include "unit/docs_support.hpp"

namespace sluice::notify {
namespace {

void ExpectSectionCurrent(const std::string& name, const std::string& generated) {
  std::string problem = sluice::test_support::UpdateOrCompareKeysSection("docs/notifications.md", name, generated);
  EXPECT_TRUE(problem.empty()) << problem;
}

TEST(NotifyDocsTest, EveryNotifierHasItsKeyTable) {
  NotifierRegistry registry;
  RegisterBuiltinNotifiers(registry);
  for (const auto& notifier : registry.descriptors()) {
    ExpectSectionCurrent("notifier_" + notifier.type, config::OptionsMarkdown(notifier.options));
    EXPECT_TRUE(config::InvalidDefaults(notifier.options).empty()) << notifier.type;
  }
  ExpectSectionCurrent("notifier_email_smtp", config::OptionsMarkdown(EmailSmtpOptionSpecs()));
}

}  // namespace
}  // namespace sluice::notify
