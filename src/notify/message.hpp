#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "notify/notifier.hpp"

namespace sluice::notify {

/// "[sluice] acme/compounds failed (run 20261123-...)"
std::string NoticeSubject(const RunNotice& notice);
/// Plain text: pipeline, run id, status, duration, rows and bytes per job, the error, and how to see the logs.
std::string NoticeText(const RunNotice& notice);
/// The same facts as JSON (the webhook body).
nlohmann::json NoticeJson(const RunNotice& notice);

}  // namespace sluice::notify
