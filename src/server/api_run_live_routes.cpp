// A run as it happens, for the web UI and scripts: its jobs' live progress
// (GET /api/v1/runs/ID/progress) and its log from a byte offset on, to follow it
// (GET /api/v1/runs/ID/log?offset=N). Clients poll both; a bearer header cannot ride on a
// browser's EventSource, and polling every second or two costs one small answer.
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "common/json_limits.hpp"
#include "pipeline/job_runner.hpp"
#include "server/api_server.hpp"
#include "server/json_response.hpp"

namespace sluice::server {
namespace {

using nlohmann::json;

/// One answer of the log endpoint carries at most this much of the log; the client asks again.
constexpr size_t kMaxLogChunk = 256 * 1024;

json SummaryFields(const pipeline::JobSummary& s) {
  json checks = json::array();
  for (const auto& c : s.checks) {
    checks.push_back({{"check", c.check},
                      {"severity", c.severity},
                      {"status", pipeline::ToString(c.status)},
                      {"failed_rows", c.failed_rows},
                      {"detail", c.detail}});
  }
  return json{{"table", s.table},
              {"rows_read", s.rows_read},
              {"rows_written", s.rows_written},
              {"rows_rejected", s.rows_rejected},
              {"bytes_written", s.bytes_written},
              {"files_written", s.files_written},
              {"attempts", s.attempts},
              {"message", s.message},
              {"checks", checks}};
}

json LiveJobJson(const LiveJob& job) {
  json out{{"job", job.job},
           {"state", job.state},
           {"input", job.input},
           {"percentage", job.percentage < 0 ? json(nullptr) : json(job.percentage)},
           {"rows", job.rows},
           {"input_bytes", job.input_bytes},
           {"elapsed_seconds", job.elapsed_seconds}};
  if (job.summary) out.update(SummaryFields(*job.summary));
  return out;
}

/// A finished run's jobs as the catalog recorded them (details.jobs), in the shape of the live ones.
json RecordedJobs(const catalog::RunRecord& run) {
  json details = ParseJsonOrDiscarded(run.details_json);
  json jobs = json::array();
  if (details.is_discarded() || !details.contains("jobs") || !details["jobs"].is_array()) return jobs;
  for (const auto& recorded : details["jobs"]) {
    json job = recorded;
    job["state"] = recorded.value("status", "");
    job["elapsed_seconds"] = recorded.value("seconds", 0.0);
    job["rows"] = recorded.value("rows_read", 0);
    jobs.push_back(std::move(job));
  }
  return jobs;
}

/// Bytes [offset, offset + max) of the log, ending at a whole line unless one line is longer.
struct LogChunk {
  std::string text;
  uint64_t offset = 0, next_offset = 0, size = 0;
};

std::optional<LogChunk> ReadLogFrom(const std::filesystem::path& path, std::optional<uint64_t> offset) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) return std::nullopt;
  LogChunk chunk;
  chunk.size = static_cast<uint64_t>(file.tellg());
  // Without an offset: the tail, from a whole line.
  bool from_tail = !offset;
  chunk.offset = offset ? std::min(*offset, chunk.size) : (chunk.size > kMaxLogChunk ? chunk.size - kMaxLogChunk : 0);
  uint64_t length = std::min<uint64_t>(chunk.size - chunk.offset, kMaxLogChunk);
  chunk.text.resize(length);
  file.seekg(static_cast<std::streamoff>(chunk.offset));
  file.read(chunk.text.data(), static_cast<std::streamsize>(length));
  chunk.text.resize(static_cast<size_t>(file.gcount()));
  if (from_tail && chunk.offset > 0) {
    size_t newline = chunk.text.find('\n');
    if (newline != std::string::npos) {
      chunk.text.erase(0, newline + 1);
      chunk.offset += newline + 1;
    }
  }
  // A line still being written is sent next time, whole.
  size_t last_newline = chunk.text.rfind('\n');
  if (last_newline != std::string::npos) {
    chunk.text.resize(last_newline + 1);
  } else if (chunk.text.size() < kMaxLogChunk) {
    chunk.text.clear();
  }
  chunk.next_offset = chunk.offset + chunk.text.size();
  return chunk;
}

}  // namespace

void ApiServer::RunLiveRoutes() {
  http_->Get(R"(/api/v1/runs/([^/]+)/progress)", [this](const httplib::Request& request, httplib::Response& response) {
    auto run = workspace_.catalog().GetRun(request.matches[1]);
    if (!run.ok()) return SendError(response, HttpStatusFor(run.status()), workspace_.Redact(run.status().message()));
    if (!*run) {
      auto queued = workspace_.catalog().GetQueuedRun(request.matches[1]);
      if (queued.ok() && *queued) {
        return SendJson(response, 200,
                        json{{"run_id", (*queued)->id.value},
                             {"pipeline", (*queued)->pipeline},
                             {"status", "queued"},
                             {"live", false},
                             {"jobs", json::array()}});
      }
      return SendError(response, 404,
                       fmt::format("no run with id '{}'; GET /api/v1/runs lists them", request.matches[1].str()));
    }
    const catalog::RunRecord& record = **run;
    bool running = record.status == catalog::RunStatus::kRunning;
    auto live = progress_board_.Jobs(record.id);
    json jobs = json::array();
    if (running && live) {
      auto pipeline =
          std::find_if(pipelines_.begin(), pipelines_.end(), [&](const auto& p) { return p.name == record.pipeline; });
      for (const auto& job : *live) {
        json item = LiveJobJson(job);
        const config::JobConfig* config = pipeline == pipelines_.end() ? nullptr : pipeline->FindJob(job.job);
        if (!item.contains("table") && config != nullptr) item["table"] = pipeline::JobTargetLabel(*config);
        jobs.push_back(std::move(item));
      }
      // The pipeline's jobs that have not started yet.
      if (pipeline != pipelines_.end()) {
        for (const auto& job : pipeline->jobs) {
          bool started = std::any_of(live->begin(), live->end(), [&](const LiveJob& j) { return j.job == job.name; });
          if (started || (!record.job.empty() && record.job != job.name)) continue;
          jobs.push_back({{"job", job.name},
                          {"state", "waiting"},
                          {"elapsed_seconds", 0},
                          {"rows", 0},
                          {"table", pipeline::JobTargetLabel(job)}});
        }
      }
    } else if (!running) {
      jobs = RecordedJobs(record);
    }
    double elapsed = std::chrono::duration<double>(
                         (record.finished_at ? *record.finished_at : workspace_.clock().Now()) - record.started_at)
                         .count();
    SendJson(response, 200,
             json{{"run_id", record.id.value},
                  {"pipeline", record.pipeline},
                  {"status", catalog::RunStatusName(record.status)},
                  {"live", running && live.has_value()},
                  {"elapsed_seconds", elapsed},
                  {"rows_written", record.rows_written},
                  {"rows_rejected", record.rows_rejected},
                  {"bytes_written", record.bytes_written},
                  {"error", record.error},
                  {"jobs", jobs}});
  });

  http_->Get(R"(/api/v1/runs/([^/]+)/log)", [this](const httplib::Request& request, httplib::Response& response) {
    std::optional<uint64_t> offset;
    if (request.has_param("offset")) {
      std::string text = request.get_param_value("offset");
      if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) {
        return SendError(response, 400, fmt::format("offset must be a byte offset (a whole number), not '{}'", text));
      }
      offset = std::stoull(text);
    }
    auto run = workspace_.catalog().GetRun(request.matches[1]);
    if (!run.ok()) return SendError(response, HttpStatusFor(run.status()), workspace_.Redact(run.status().message()));
    if (!*run) {
      return SendError(response, 404,
                       fmt::format("no started run with id '{}'; GET /api/v1/runs lists them (a queued run has no log "
                                   "yet)",
                                   request.matches[1].str()));
    }
    bool running = (*run)->status == catalog::RunStatus::kRunning;
    auto chunk = ReadLogFrom(workspace_.RunLogPath((*run)->id), offset);
    if (!chunk) {
      return SendJson(response, 200,
                      json{{"run_id", (*run)->id.value},
                           {"text", ""},
                           {"offset", 0},
                           {"next_offset", 0},
                           {"size", 0},
                           {"running", running}});
    }
    SendJson(response, 200,
             json{{"run_id", (*run)->id.value},
                  {"text", workspace_.Redact(chunk->text)},
                  {"offset", chunk->offset},
                  {"next_offset", chunk->next_offset},
                  {"size", chunk->size},
                  {"running", running}});
  });
}

}  // namespace sluice::server
