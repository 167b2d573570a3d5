#include "notify/email/email_notifier.hpp"
#include "notify/notifier.hpp"
#include "notify/webhook/webhook_notifier.hpp"

namespace sluice::notify {

void RegisterBuiltinNotifiers(NotifierRegistry& registry) {
  // In name order: messages list the types in registration order.
  (void)registry.Register(EmailNotifierDescriptor());
  (void)registry.Register(WebhookNotifierDescriptor());
}

}  // namespace sluice::notify
