#pragma once

#include <vector>

#include "common/secret.hpp"
#include "scheduler/triggers/trigger.hpp"

namespace sluice::scheduler::triggers {

/// `webhook: true`, or `webhook: { token: "${env:NAME}" }`: POST /api/v1/pipelines/NAME/trigger starts
/// a run. The request carries `Bearer server.token` when one is set; a pipeline's own token lets a
/// caller start that pipeline and nothing else (least privilege for an outside system).
class WebhookConfig final : public TriggerConfig {
 public:
  std::string Describe() const override;

  bool enabled = false;
  Secret token;  // empty: only server.token
};

TriggerDescriptor WebhookTriggerDescriptor();

/// Whether the specs switch the webhook on.
bool WebhookEnabled(const std::vector<TriggerSpec>& specs);
/// The pipeline's own webhook tokens (none when its webhook uses server.token alone).
std::vector<Secret> WebhookTokens(const std::vector<TriggerSpec>& specs);

}  // namespace sluice::scheduler::triggers
