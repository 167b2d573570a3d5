#include "notify/email/email_notifier.hpp"
#include "notify/notifier.hpp"
#include "notify/webhook/webhook_notifier.hpp"

namespace sluice::notify {

void RegisterBuiltinNotifiers(NotifierRegistry& registry) {
  registry.Add(EmailNotifierDescriptor());
  registry.Add(WebhookNotifierDescriptor());
}

}  // namespace sluice::notify
