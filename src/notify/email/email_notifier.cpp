#include "notify/email/email_notifier.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "common/secret.hpp"
#include "common/strings.hpp"
#include "notify/curl_handle.hpp"
#include "notify/message.hpp"

namespace sluice::notify {
namespace {

const std::vector<config::OptionSpec>& SmtpKeys() {
  static const std::vector<config::OptionSpec> kKeys = {
      {"host", config::OptionType::kString, "", true, false, "SMTP server"},
      {"port", config::OptionType::kInt, "25 (465 with tls: tls)", false, false, "SMTP port"},
      {"tls", config::OptionType::kString, "none", false, false,
       "none | starttls (upgrade; refuses to continue without it) | tls (implicit TLS, smtps); with a password, none "
       "is refused unless host is a loopback address"},
      {"user", config::OptionType::kString, "", false, false, "login name; omit for no authentication"},
      {"password", config::OptionType::kString, "", false, true, "e.g. ${env:SMTP_PASSWORD}"},
      {"timeout", config::OptionType::kDuration, "30s", false, false, "gives up on an unresponsive server"},
  };
  return kKeys;
}

/// The password of a loopback relay (a local MTA or a TLS tunnel's local end) never crosses the network.
bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || StartsWith(host, "127.");
}

/// libcurl pulls the message through this; `user` is the (text, offset) being sent.
size_t ReadMessage(char* buffer, size_t size, size_t n, void* user) {
  auto* state = static_cast<std::pair<const std::string*, size_t*>*>(user);
  size_t left = state->first->size() - *state->second;
  size_t take = std::min(left, size * n);
  std::memcpy(buffer, state->first->data() + *state->second, take);
  *state->second += take;
  return take;
}

struct SmtpSettings {
  std::string host;
  int64_t port = 25;
  std::string tls = "none";
  std::string user;
  Secret password;
  std::chrono::microseconds timeout = std::chrono::seconds(30);
};

class EmailNotifier final : public Notifier {
 public:
  EmailNotifier(std::string name, SmtpSettings smtp, std::string from, std::vector<std::string> to)
      : name_(std::move(name)), smtp_(std::move(smtp)), from_(std::move(from)), to_(std::move(to)) {}

  Status Send(const RunNotice& notice) override {
    std::string message = Compose(notice);
    size_t offset = 0;
    CurlHandle curl;
    std::string url = fmt::format("{}://{}:{}", smtp_.tls == "tls" ? "smtps" : "smtp", smtp_.host, smtp_.port);
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    if (smtp_.tls == "starttls") curl_easy_setopt(curl.get(), CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    if (!smtp_.user.empty()) {
      curl_easy_setopt(curl.get(), CURLOPT_USERNAME, smtp_.user.c_str());
      curl_easy_setopt(curl.get(), CURLOPT_PASSWORD, smtp_.password.Reveal().c_str());
    }
    std::string from = "<" + from_ + ">";
    curl_easy_setopt(curl.get(), CURLOPT_MAIL_FROM, from.c_str());
    curl_slist* rcpt = nullptr;
    for (const auto& to : to_) rcpt = curl_slist_append(rcpt, ("<" + to + ">").c_str());
    curl_easy_setopt(curl.get(), CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl.get(), CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_READFUNCTION, &ReadMessage);
    std::pair<const std::string*, size_t*> state{&message, &offset};
    curl_easy_setopt(curl.get(), CURLOPT_READDATA, &state);
    auto timeout_ms = std::chrono::duration_cast<std::chrono::milliseconds>(smtp_.timeout).count();
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
    Status st = curl.Perform(fmt::format("sending mail through notification '{}' (smtp {}:{}, tls: {})", name_,
                                         smtp_.host, smtp_.port, smtp_.tls));
    curl_slist_free_all(rcpt);
    return st;
  }

 private:
  std::string Compose(const RunNotice& notice) const {
    auto now = std::chrono::system_clock::now();
    std::string headers = fmt::format(
        "Date: {:%a, %d %b %Y %H:%M:%S} +0000\r\nFrom: {}\r\nTo: {}\r\nSubject: {}\r\n"
        "Message-ID: <{}.{}@sluice>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n",
        fmt::gmtime(std::chrono::system_clock::to_time_t(now)), from_, Join(to_, ", "), NoticeSubject(notice),
        notice.run_id, std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count());
    std::string body;
    for (char c : NoticeText(notice)) {
      if (c == '\n')
        body += "\r\n";
      else
        body += c;
    }
    return headers + body;
  }

  std::string name_;
  SmtpSettings smtp_;
  std::string from_;
  std::vector<std::string> to_;
};

Result<std::unique_ptr<Notifier>> CreateEmail(const std::string& name, const config::Value& options) {
  const config::Value* smtp = options.Find("smtp");
  std::vector<std::string> errors;
  config::ValidateOptions(*smtp, SmtpKeys(), fmt::format("smtp: of notification '{}'", name), &errors);
  SLUICE_TRY(config::ErrorsToStatus(errors));
  SmtpSettings settings;
  SLUICE_ASSIGN_OR_RETURN(settings.host, smtp->Find("host")->AsString());
  SLUICE_ASSIGN_OR_RETURN(settings.tls, smtp->GetString("tls", "none"));
  if (settings.tls != "none" && settings.tls != "starttls" && settings.tls != "tls") {
    return Status::Invalid("{}: tls of notification '{}' must be none, starttls or tls, got '{}'",
                           smtp->Find("tls")->location().ToString(), name, settings.tls);
  }
  SLUICE_ASSIGN_OR_RETURN(settings.port, smtp->GetInt("port", settings.tls == "tls" ? 465 : 25));
  if (settings.tls == "none" && !IsLoopbackHost(settings.host)) {
    if (const auto* password = smtp->Find("password"); password != nullptr && !password->scalar().empty()) {
      const config::Value* tls = smtp->Find("tls");
      return Status::Invalid(
          "{}: notification '{}' would send its SMTP password unencrypted to {} (tls: none); use tls: starttls "
          "(port 587) or tls: tls (port 465). Only a relay on this machine (127.0.0.1, ::1, localhost) may take a "
          "password without TLS",
          (tls != nullptr ? tls->location() : smtp->location()).ToString(), name, settings.host);
    }
  }
  SLUICE_ASSIGN_OR_RETURN(settings.user, smtp->GetString("user", ""));
  if (const auto* password = smtp->Find("password"); password != nullptr && !password->IsNull()) {
    SLUICE_ASSIGN_OR_RETURN(settings.password, password->AsSecret());
  }
  SLUICE_ASSIGN_OR_RETURN(settings.timeout, smtp->GetDuration("timeout", settings.timeout));
  SLUICE_ASSIGN_OR_RETURN(auto from, options.Find("from")->AsString());
  SLUICE_ASSIGN_OR_RETURN(auto to, options.Find("to")->AsStringList());
  if (to.empty()) {
    return Status::Invalid("{}: to: of notification '{}' lists no recipient", options.Find("to")->location().ToString(),
                           name);
  }
  return std::unique_ptr<Notifier>(std::make_unique<EmailNotifier>(name, std::move(settings), from, std::move(to)));
}

}  // namespace

const std::vector<config::OptionSpec>& EmailSmtpOptionSpecs() { return SmtpKeys(); }

NotifierDescriptor EmailNotifierDescriptor() {
  return {"email",
          "a plain-text mail over SMTP",
          {{"smtp", config::OptionType::kMap, "", true, false,
            "{host, port, tls: none|starttls|tls, user, password, timeout}"},
           {"from", config::OptionType::kString, "", true, false, "sender address"},
           {"to", config::OptionType::kStringList, "", true, false, "recipient addresses"}},
          CreateEmail};
}

}  // namespace sluice::notify
