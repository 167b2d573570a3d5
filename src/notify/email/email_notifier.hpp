#pragma once

#include "notify/notifier.hpp"

namespace sluice::notify {

/// `type: email`: a plain-text mail over SMTP (tls: none | starttls | tls; user/password from secrets).
NotifierDescriptor EmailNotifierDescriptor();
/// The keys of its `smtp:` map (documented in docs/notifications.md, generated from these).
const std::vector<config::OptionSpec>& EmailSmtpOptionSpecs();

}  // namespace sluice::notify
