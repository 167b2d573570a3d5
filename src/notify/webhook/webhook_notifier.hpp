#pragma once

#include "notify/notifier.hpp"

namespace sluice::notify {

/// `type: webhook`: an HTTP POST with a JSON body (preset: json, or slack for Slack-compatible {"text": …}).
NotifierDescriptor WebhookNotifierDescriptor();

}  // namespace sluice::notify
