#include "scheduler/run_notifications.hpp"

#include <chrono>

#include "notify/dispatch.hpp"

namespace sluice::scheduler {

notify::RunNotice NoticeForRun(const config::ProjectConfig& project, const pipeline::RunOutcome& outcome) {
  const auto& r = outcome.record;
  notify::RunNotice notice;
  notice.project = project.project;
  notice.pipeline = r.pipeline;
  notice.run_id = r.id.value;
  notice.status = catalog::RunStatusName(r.status);
  notice.trigger = r.trigger;
  if (r.finished_at) notice.duration_seconds = std::chrono::duration<double>(*r.finished_at - r.started_at).count();
  notice.rows_written = r.rows_written;
  notice.bytes_written = r.bytes_written;
  notice.error = r.error;
  for (const auto& j : outcome.jobs) {
    notice.jobs.push_back({j.job, pipeline::ToString(j.status), j.table, j.rows_written, j.rows_rejected,
                           j.bytes_written, j.attempts, j.message});
  }
  return notice;
}

std::vector<notify::RunEvent> EventsOfRun(const pipeline::RunOutcome& outcome) {
  auto status = outcome.record.status;
  if (status == catalog::RunStatus::kSucceeded || status == catalog::RunStatus::kNoChanges) {
    return {notify::RunEvent::kSuccess};
  }
  std::vector<notify::RunEvent> events = {notify::RunEvent::kFailure};
  for (const auto& j : outcome.jobs) {
    if (j.status == pipeline::JobStatus::kFailed && j.retryable && j.attempts > 1) {
      events.push_back(notify::RunEvent::kRetriesExhausted);
      break;
    }
  }
  return events;
}

Status NotifyRunOutcome(const notify::NotifierRegistry& registry, const config::ProjectConfig& project,
                        const config::PipelineConfig& pipeline, const pipeline::RunOutcome& outcome) {
  auto names = notify::Recipients(pipeline.notify, EventsOfRun(outcome));
  if (names.empty()) return Status::OK();
  return notify::SendNotice(registry, project.notifications, names, NoticeForRun(project, outcome), project.unresolved);
}

}  // namespace sluice::scheduler
