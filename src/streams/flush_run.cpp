#include "streams/flush_run.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/json_limits.hpp"
#include "streams/spool.hpp"

namespace sluice::streams {

namespace {

/// Errors of earlier attempts kept in a run record's details.
constexpr size_t kEarlierErrorsKept = 5;

}  // namespace

std::string FlushRunPipeline(const std::string& stream) { return "stream:" + stream; }

RunId FlushRunId(const std::string& stream, uint64_t segment) {
  return RunId{fmt::format("stream-{}-{}", stream, segment)};
}

FlushRun::FlushRun(pipeline::Workspace& workspace, const config::StreamConfig& stream, uint64_t segment,
                   const std::string& trigger)
    : workspace_(workspace), stream_(stream), segment_(segment), attempt_started_(workspace.clock().Now()) {
  const RunId id = FlushRunId(stream.name, segment);
  std::error_code ec;
  std::filesystem::create_directories(workspace.RunLogPath(id).parent_path(), ec);
  log_ = LogCapture::ToFile(workspace.RunLogPath(id).string());
  auto earlier = workspace.catalog().GetRun(id.value);
  bool exists = earlier.ok() && *earlier && (*earlier)->id == id;
  if (exists) {
    record_ = **earlier;
    auto details = ParseJsonOrDiscarded(record_.details_json);
    if (details.is_object()) {
      attempts_ = details.value("attempts", int64_t{1}) + 1;
      if (details.contains("earlier_errors") && details["earlier_errors"].is_array()) {
        earlier_errors_ = details["earlier_errors"];
      }
    }
    if (!record_.error.empty()) earlier_errors_.push_back(record_.error);
    while (earlier_errors_.size() > kEarlierErrorsKept) earlier_errors_.erase(earlier_errors_.begin());
  } else {
    record_.id = id;
    record_.pipeline = FlushRunPipeline(stream.name);
    record_.job = stream.name;
    record_.env = workspace.project().env;
    record_.trigger = trigger;
    record_.started_at = attempt_started_;
  }
  record_.status = catalog::RunStatus::kRunning;
  record_.finished_at.reset();
  record_.error.clear();
  SetJob("running", "", nullptr);
  Save(!exists);
  spdlog::info("stream '{}': flushing spool segment {} (run {}, attempt {})", stream.name, segment, id, attempts_);
}

void FlushRun::SetJob(const std::string& status, const std::string& message, const FlushSummary* summary) {
  double seconds = std::chrono::duration<double>(workspace_.clock().Now() - attempt_started_).count();
  nlohmann::json job = {{"job", stream_.name},
                        {"status", status},
                        {"table", fmt::format("{}.{}", stream_.zone, stream_.table)},
                        {"rows_read", summary ? summary->records : 0},
                        {"rows_written", summary ? summary->rows_written : 0},
                        {"rows_rejected", summary ? summary->rows_rejected : 0},
                        {"bytes_written", summary ? summary->bytes_written : 0},
                        {"files_written", summary ? summary->files_written : 0},
                        {"table_version", summary ? summary->table_version : 0},
                        {"seconds", seconds},
                        {"attempts", attempts_},
                        {"message", message},
                        {"checks", nlohmann::json::array()}};
  nlohmann::json details = {{"stream", stream_.name},
                            {"segment", segment_},
                            {"source_file", fmt::format("{}/{}", stream_.name, Spool::SegmentName(segment_))},
                            {"attempts", attempts_},
                            {"earlier_errors", earlier_errors_},
                            {"jobs", nlohmann::json::array({job})}};
  record_.details_json = details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void FlushRun::Succeeded(const FlushSummary& summary) {
  record_.status = summary.rows_written > 0 || summary.rows_rejected > 0 ? catalog::RunStatus::kSucceeded
                                                                         : catalog::RunStatus::kNoChanges;
  record_.finished_at = workspace_.clock().Now();
  record_.rows_read = summary.records;
  record_.rows_written = summary.rows_written;
  record_.rows_rejected = summary.rows_rejected;
  record_.bytes_written = summary.bytes_written;
  record_.files_written = summary.files_written;
  SetJob("succeeded",
         summary.rows_rejected > 0
             ? fmt::format("{} records set aside in {}.{}__rejects", summary.rows_rejected, stream_.zone, stream_.table)
             : "",
         &summary);
  Save(false);
}

void FlushRun::Failed(const Status& error) {
  record_.status = catalog::RunStatus::kFailed;
  record_.finished_at = workspace_.clock().Now();
  record_.error = workspace_.Redact(
      fmt::format("{}; the records stay in the spool and the flush is tried again (attempt {} failed)", error.message(),
                  attempts_));
  SetJob("failed", record_.error, nullptr);
  Save(false);
}

void FlushRun::Save(bool insert) {
  Status saved = insert ? workspace_.catalog().InsertRun(record_) : workspace_.catalog().UpdateRun(record_);
  if (!saved.ok()) {
    spdlog::error("stream '{}': could not save run record {}: {}", stream_.name, record_.id,
                  workspace_.Redact(saved.message()));
  }
}

void MarkInterruptedFlushes(pipeline::Workspace& workspace, const std::string& stream) {
  auto runs = workspace.catalog().ListRuns(0, FlushRunPipeline(stream));
  if (!runs.ok()) {
    spdlog::warn("stream '{}': could not check for interrupted flushes: {}", stream, runs.status().message());
    return;
  }
  for (auto run : *runs) {
    if (run.status != catalog::RunStatus::kRunning) continue;
    run.status = catalog::RunStatus::kInterrupted;
    run.finished_at = workspace.clock().Now();
    run.error = "sluice serve stopped during the flush; its records stayed in the spool and are flushed again";
    Status saved = workspace.catalog().UpdateRun(run);
    if (!saved.ok())
      spdlog::warn("stream '{}': could not mark run {} interrupted: {}", stream, run.id, saved.message());
  }
}

void MarkFlushCommitted(pipeline::Workspace& workspace, const std::string& stream, uint64_t segment) {
  const RunId id = FlushRunId(stream, segment);
  auto run = workspace.catalog().GetRun(id.value);
  if (!run.ok() || !*run || (*run)->id != id || (*run)->status == catalog::RunStatus::kSucceeded) return;
  catalog::RunRecord record = **run;
  record.status = catalog::RunStatus::kSucceeded;
  if (!record.finished_at) record.finished_at = workspace.clock().Now();
  record.error = "";
  auto details = ParseJsonOrDiscarded(record.details_json);
  if (details.is_object()) {
    details["note"] = "the flush was committed; sluice serve stopped before it could record so";
    record.details_json = details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  Status saved = workspace.catalog().UpdateRun(record);
  if (!saved.ok()) spdlog::warn("stream '{}': could not update run {}: {}", stream, id, saved.message());
}

}  // namespace sluice::streams
