#pragma once

#include "notify/notifier.hpp"

namespace sluice::notify {

/// `type: email`: a plain-text mail over SMTP (tls: none | starttls | tls; user/password from secrets).
NotifierDescriptor EmailNotifierDescriptor();

}  // namespace sluice::notify
