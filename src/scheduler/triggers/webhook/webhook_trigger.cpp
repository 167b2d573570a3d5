#include "scheduler/triggers/webhook/webhook_trigger.hpp"

#include "common/strings.hpp"
#include "scheduler/triggers/parse_util.hpp"

namespace sluice::scheduler::triggers {

std::string WebhookConfig::Describe() const {
  if (!enabled) return "webhook (off)";
  return token.empty() ? "webhook" : "webhook (own token)";
}

namespace {

Result<std::shared_ptr<const TriggerConfig>> ParseWebhook(const config::Value& item, const TriggerParseContext&) {
  const config::Value& value = *item.Find("webhook");
  auto config = std::make_shared<WebhookConfig>();
  if (!value.IsMap()) {
    auto enabled = value.AsBool();
    if (!enabled.ok()) return InvalidAt(value, "must be true, false or { token: \"${env:NAME}\" }");
    config->enabled = *enabled;
    return std::shared_ptr<const TriggerConfig>(config);
  }
  for (const auto& [key, option] : value.entries()) {
    if (key != "token") {
      return InvalidAt(option, fmt::format("unknown key '{}'{}; webhook takes token", key, DidYouMean(key, {"token"})));
    }
  }
  const config::Value* token = value.Find("token");
  if (token == nullptr || !token->IsScalar() || token->scalar().empty()) {
    return InvalidAt(value, "needs token: \"${env:NAME}\" (or write webhook: true to use server.token)");
  }
  // A token written into the file would be shown by the API's pipeline listing and kept in git.
  if (!token->is_secret()) return InvalidAt(*token, "must be a secret reference: ${env:NAME} or ${file:PATH}");
  config->enabled = true;
  config->token = Secret(token->scalar());
  return std::shared_ptr<const TriggerConfig>(config);
}

}  // namespace

TriggerDescriptor WebhookTriggerDescriptor() {
  TriggerDescriptor d;
  d.kind = "webhook";
  d.summary =
      "an HTTP POST to /api/v1/pipelines/NAME/trigger starts a run (Bearer server.token when one is set, or the "
      "pipeline's own token)";
  d.value_form = "true, false or { token: \"${env:NAME}\" }";
  d.parse = ParseWebhook;
  return d;
}

bool WebhookEnabled(const std::vector<TriggerSpec>& specs) {
  for (const auto& spec : specs) {
    const auto* webhook = spec.As<WebhookConfig>();
    if (webhook != nullptr && webhook->enabled) return true;
  }
  return false;
}

std::vector<Secret> WebhookTokens(const std::vector<TriggerSpec>& specs) {
  std::vector<Secret> tokens;
  for (const auto& spec : specs) {
    const auto* webhook = spec.As<WebhookConfig>();
    if (webhook != nullptr && webhook->enabled && !webhook->token.empty()) tokens.push_back(webhook->token);
  }
  return tokens;
}

}  // namespace sluice::scheduler::triggers
