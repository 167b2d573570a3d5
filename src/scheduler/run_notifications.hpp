#pragma once

#include "config/pipeline.hpp"
#include "config/project.hpp"
#include "notify/notifier.hpp"
#include "pipeline/runner.hpp"

namespace sluice::scheduler {

/// What a finished run tells its notifications (never a secret: messages were redacted when recorded).
notify::RunNotice NoticeForRun(const config::ProjectConfig& project, const pipeline::RunOutcome& outcome);

/// The events a finished run raises: success (succeeded, no changes) or failure (failed, cancelled,
/// interrupted), plus retries exhausted when a failed job had used up retries.
std::vector<notify::RunEvent> EventsOfRun(const pipeline::RunOutcome& outcome);

/// Sends the run's notice to the notifications the pipeline's notify: names for its events.
/// OK when there are none; failures are returned for the caller to log (the run's outcome stands).
Status NotifyRunOutcome(const notify::NotifierRegistry& registry, const config::ProjectConfig& project,
                        const config::PipelineConfig& pipeline, const pipeline::RunOutcome& outcome);

}  // namespace sluice::scheduler
