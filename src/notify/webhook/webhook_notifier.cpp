#include "notify/webhook/webhook_notifier.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "common/secret.hpp"
#include "config/option_reader.hpp"
#include "notify/curl_handle.hpp"
#include "notify/message.hpp"

namespace sluice::notify {
namespace {

/// Keeps the first 2 KB of the receiver's answer for the error message.
size_t KeepResponseStart(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() < 2048) out->append(data, std::min<size_t>(size * n, 2048 - out->size()));
  return size * n;
}

class WebhookNotifier final : public Notifier {
 public:
  WebhookNotifier(std::string name, Secret url, std::string format, Secret token, std::chrono::microseconds timeout)
      : name_(std::move(name)),
        url_(std::move(url)),
        format_(std::move(format)),
        token_(std::move(token)),
        timeout_(timeout) {}

  Status Send(const RunNotice& notice) override {
    std::string body =
        format_ == "slack"
            ? nlohmann::json{{"text", NoticeSubject(notice) + "\n```\n" + NoticeText(notice) + "```"}}.dump()
            : NoticeJson(notice).dump();
    CurlHandle curl;
    curl_easy_setopt(curl.get(), CURLOPT_URL, url_.Reveal().c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POST, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    std::string auth;
    if (!token_.empty()) {
      auth = "Authorization: Bearer " + token_.Reveal();
      headers = curl_slist_append(headers, auth.c_str());
    }
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers);
    std::string response;
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &KeepResponseStart);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &response);
    auto timeout_ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout_).count();
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
    // The URL may itself be a credential (Slack hooks are): messages name the notification, not the URL.
    std::string what = fmt::format("posting to webhook notification '{}'", name_);
    Status st = curl.Perform(what);
    curl_slist_free_all(headers);
    SLUICE_TRY(st);
    long code = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200 && code < 300) return Status::OK();
    return Status(StatusCode::kUnavailable, fmt::format("{}: the receiver answered HTTP {}: {}", what, code, response),
                  code >= 500 || code == 429);
  }

 private:
  std::string name_;
  Secret url_;
  std::string format_;
  Secret token_;
  std::chrono::microseconds timeout_;
};

const std::vector<config::OptionSpec>& WebhookOptionSpecs() {
  static const std::vector<config::OptionSpec> kSpecs = {
      // Not a secret key: a plain receiver URL may be written into the file. One given as a reference
      // (a Slack hook URL: url: "${env:HOOK_URL}") is masked, since CreateWebhook reads it with AsSecret.
      {"url", config::OptionType::kString, "", true, false,
       "where to POST; a URL that is itself a credential (Slack hooks) goes in a reference: "
       "url: \"${env:HOOK_URL}\", and is then never shown"},
      {"preset", config::OptionType::kString, "json", false, false,
       "json (the run as JSON) | slack (Slack-compatible {\"text\": …})"},
      {"token", config::OptionType::kString, "", false, true, "sent as Authorization: Bearer TOKEN"},
      {"timeout", config::OptionType::kDuration, "30s", false, false, "gives up on an unresponsive receiver"},
  };
  return kSpecs;
}

Result<std::unique_ptr<Notifier>> CreateWebhook(const std::string& name, const config::Value& options) {
  config::OptionReader keys(options, WebhookOptionSpecs());
  SLUICE_ASSIGN_OR_RETURN(auto url, options.Find("url")->AsSecret());
  SLUICE_ASSIGN_OR_RETURN(auto format, keys.String("preset"));
  if (format != "json" && format != "slack") {
    return Status::Invalid("{}: preset of notification '{}' must be json or slack, got '{}'",
                           options.Find("preset")->location().ToString(), name, format);
  }
  Secret token;
  if (const auto* t = options.Find("token"); t != nullptr && !t->IsNull()) {
    SLUICE_ASSIGN_OR_RETURN(token, t->AsSecret());
  }
  SLUICE_ASSIGN_OR_RETURN(auto timeout, keys.Duration("timeout"));
  return std::unique_ptr<Notifier>(
      std::make_unique<WebhookNotifier>(name, std::move(url), std::move(format), std::move(token), timeout));
}

}  // namespace

NotifierDescriptor WebhookNotifierDescriptor() {
  return {"webhook", "an HTTP POST with the run as JSON (or a Slack-compatible {\"text\": …} body)",
          WebhookOptionSpecs(), CreateWebhook};
}

}  // namespace sluice::notify
