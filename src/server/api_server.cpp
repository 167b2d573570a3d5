#include "server/api_server.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>

#include "common/clock.hpp"
#include "common/hash.hpp"
#include "common/json_limits.hpp"
#include "common/strings.hpp"
#include "pipeline/cdc_status.hpp"
#include "pipeline/job_runner.hpp"
#include "pipeline/runner.hpp"
#include "server/json_response.hpp"
#include "server/request_guard.hpp"
#include "streams/stream_service.hpp"

namespace sluice::server {
namespace {

using nlohmann::json;

constexpr int kDefaultRunsLimit = 50;
constexpr size_t kMaxLogBytes = 1 << 20;
/// Bodies are small JSON objects (a query's SQL, a trigger's options).
constexpr uint64_t kMaxBodyBytes = 1 << 20;
constexpr int kReadTimeoutSeconds = 10;
constexpr int kWriteTimeoutSeconds = 30;
constexpr int kKeepAliveSeconds = 5;

/// Config values as JSON; a value written as ${env:}/${file:} is never echoed.
json ValueToJson(const config::Value& value) {
  if (value.IsNull()) return nullptr;
  if (value.IsScalar()) return value.is_secret() ? json("***") : json(value.scalar());
  if (value.IsList()) {
    json out = json::array();
    for (const auto& item : value.items()) out.push_back(ValueToJson(item));
    return out;
  }
  json out = json::object();
  for (const auto& [key, item] : value.entries()) out[key] = ValueToJson(item);
  return out;
}

json RunToJson(const catalog::RunRecord& run) {
  json out{{"id", run.id.value},
           {"pipeline", run.pipeline},
           {"job", run.job},
           {"env", run.env},
           {"trigger", run.trigger},
           {"status", catalog::RunStatusName(run.status)},
           {"started_at", FormatTimestampUtc(run.started_at)},
           {"finished_at", run.finished_at ? json(FormatTimestampUtc(*run.finished_at)) : json(nullptr)},
           {"rows_read", run.rows_read},
           {"rows_written", run.rows_written},
           {"rows_rejected", run.rows_rejected},
           {"bytes_written", run.bytes_written},
           {"files_written", run.files_written},
           {"error", run.error}};
  json details = ParseJsonOrDiscarded(run.details_json);
  out["details"] = details.is_discarded() ? json::object() : details;
  return out;
}

bool RunWritesTable(const json& run, const std::string& table) {
  const json& jobs = run["details"].value("jobs", json::array());
  return std::any_of(jobs.begin(), jobs.end(), [&](const json& job) { return job.value("table", "") == table; });
}

/// The optional body of POST /pipelines/NAME/trigger: {"full_refresh": bool, "job": "name"}.
Result<scheduler::QueuedRunOptions> TriggerOptions(const std::string& text) {
  scheduler::QueuedRunOptions options;
  if (Trim(text).empty()) return options;
  json body = ParseJsonOrDiscarded(text);
  if (body.is_discarded() || !body.is_object()) {
    return Status::Invalid("the body must be empty or a JSON object {{\"full_refresh\": true, \"job\": \"name\"}}");
  }
  for (const auto& [key, value] : body.items()) {
    if (key == "full_refresh") {
      if (!value.is_boolean()) return Status::Invalid("full_refresh must be true or false");
      options.full_refresh = value.get<bool>();
    } else if (key == "job") {
      if (!value.is_string() || value.get<std::string>().empty()) return Status::Invalid("job must be a job's name");
      options.only_job = value.get<std::string>();
    } else {
      return Status::Invalid("unknown key '{}' in the body{}; it takes full_refresh and job", key,
                             DidYouMean(key, {"full_refresh", "job"}));
    }
  }
  return options;
}

json QueuedRunToJson(const catalog::QueuedRun& run) {
  return json{{"id", run.id.value},
              {"pipeline", run.pipeline},
              {"trigger", run.trigger},
              {"detail", run.detail},
              {"status", run.state == catalog::QueueState::kQueued ? "queued" : catalog::QueueStateName(run.state)},
              {"enqueued_at", FormatTimestampUtc(run.enqueued_at)},
              {"not_before", FormatTimestampUtc(run.not_before)},
              {"attempt", run.attempt},
              {"full_refresh", run.full_refresh},
              {"job", run.only_job.empty() ? json(nullptr) : json(run.only_job)}};
}

/// The last `max_bytes` of a run's log (a long run's log can be large); nullopt when there is none.
std::pair<std::optional<std::string>, bool> ReadLogTail(const std::filesystem::path& path, size_t max_bytes) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) return {std::nullopt, false};
  auto size = static_cast<size_t>(file.tellg());
  size_t start = size > max_bytes ? size - max_bytes : 0;
  file.seekg(static_cast<std::streamoff>(start));
  std::string text(size - start, '\0');
  file.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (start > 0) {
    // Start at a whole line.
    size_t newline = text.find('\n');
    text.erase(0, newline == std::string::npos ? 0 : newline + 1);
  }
  return {std::move(text), start > 0};
}

/// Prometheus text exposition of the run totals and the queue.
std::string MetricsText(const std::vector<catalog::RunTotals>& totals, const std::vector<catalog::QueuedRun>& pending,
                        size_t running) {
  std::string runs, rows, bytes, duration_sum, duration_count;
  std::map<std::string, std::array<int64_t, 3>> per_pipeline;  // rows, bytes, finished runs
  std::map<std::string, double> seconds_per_pipeline;
  for (const auto& t : totals) {
    runs += fmt::format("sluice_runs_total{{pipeline=\"{}\",status=\"{}\"}} {}\n", t.pipeline,
                        catalog::RunStatusName(t.status), t.runs);
    auto& sums = per_pipeline[t.pipeline];
    sums[0] += t.rows_written;
    sums[1] += t.bytes_written;
    sums[2] += t.finished_runs;
    seconds_per_pipeline[t.pipeline] += t.duration_seconds;
  }
  for (const auto& [pipeline, sums] : per_pipeline) {
    rows += fmt::format("sluice_rows_written_total{{pipeline=\"{}\"}} {}\n", pipeline, sums[0]);
    bytes += fmt::format("sluice_bytes_written_total{{pipeline=\"{}\"}} {}\n", pipeline, sums[1]);
    duration_sum += fmt::format("sluice_run_duration_seconds_sum{{pipeline=\"{}\"}} {:.6f}\n", pipeline,
                                seconds_per_pipeline[pipeline]);
    duration_count += fmt::format("sluice_run_duration_seconds_count{{pipeline=\"{}\"}} {}\n", pipeline, sums[2]);
  }
  size_t queued = 0;
  for (const auto& entry : pending) queued += entry.state == catalog::QueueState::kQueued ? 1 : 0;
  return "# HELP sluice_runs_total Pipeline runs recorded in the catalog.\n# TYPE sluice_runs_total counter\n" + runs +
         "# HELP sluice_rows_written_total Rows written by runs.\n# TYPE sluice_rows_written_total counter\n" + rows +
         "# HELP sluice_bytes_written_total Bytes of Parquet written by runs.\n"
         "# TYPE sluice_bytes_written_total counter\n" +
         bytes +
         "# HELP sluice_run_duration_seconds Duration of finished runs.\n# TYPE sluice_run_duration_seconds summary\n" +
         duration_sum + duration_count +
         fmt::format(
             "# HELP sluice_queue_depth Runs waiting in the queue.\n# TYPE sluice_queue_depth gauge\n"
             "sluice_queue_depth {}\n"
             "# HELP sluice_runs_in_progress Runs executing now.\n# TYPE sluice_runs_in_progress gauge\n"
             "sluice_runs_in_progress {}\n",
             queued, running);
}

std::string BearerToken(const httplib::Request& request) {
  std::string authorization = request.get_header_value("Authorization");
  return authorization.rfind("Bearer ", 0) == 0 ? authorization.substr(7) : "";
}

std::string LibraryErrorMessage(int status) {
  switch (status) {
    case 400: return "the request is malformed (request line, headers or body); see docs/api.md";
    case 408: return "the request was not received in time";
    case 413: return "the request body is over the limit of this endpoint (docs/api.md)";
    case 414: return "the URL is too long (at most 8192 bytes)";
    case 416: return "the requested range cannot be served";
    case 431: return "the request headers are too large (at most 8192 bytes a line)";
    default: return fmt::format("the request failed with HTTP status {}", status);
  }
}

Result<size_t> ParseCount(const std::string& text, const std::string& what) {
  try {
    size_t used = 0;
    long long value = std::stoll(text, &used);
    if (used == text.size() && value > 0) return static_cast<size_t>(value);
  } catch (const std::exception&) {
  }
  return Status::Invalid("{} must be a positive whole number, not '{}'", what, text);
}

}  // namespace

ApiServer::ApiServer(pipeline::Workspace& workspace, scheduler::Daemon& daemon, config::ProjectConfig project,
                     std::vector<config::PipelineConfig> pipelines, ServerOptions options)
    : workspace_(workspace),
      daemon_(daemon),
      project_(std::move(project)),
      pipelines_(std::move(pipelines)),
      options_(std::move(options)),
      http_(std::make_unique<httplib::Server>()) {
  // A local lake is read in place; a remote one through its local read cache.
  if (auto local = workspace_.lake().LocalPath("x")) {
    sandbox_options_.readable_folders.push_back(local->parent_path());
  } else {
    sandbox_options_.readable_folders.push_back(workspace_.query_cache().dir());
  }
  sandbox_options_.memory_limit = workspace_.engine_options().memory_limit;
  sandbox_options_.threads = workspace_.engine_options().threads;
  // DuckDB empties its spill folder when a database closes, and a sandbox closes after every query:
  // a folder of its own, inside this process's, keeps the pipelines' spill files safe.
  sandbox_options_.spill_folder = workspace_.spill_dir() / "api-queries";
  http_->set_payload_max_length(kMaxBodyBytes);
  http_->set_read_timeout(kReadTimeoutSeconds, 0);
  http_->set_write_timeout(kWriteTimeoutSeconds, 0);
  http_->set_keep_alive_timeout(kKeepAliveSeconds);
  Routes();
  RunRoutes();
  DataRoutes();
  PipelineRoutes();
  TableRoutes();
  RunLiveRoutes();
  UiAssetRoutes();
  StreamRoutes();
  FirehoseRoutes();
  daemon_.SetProgressListeners([this](const RunId& run_id) { return progress_board_.ListenerFor(run_id); });
}

ApiServer::~ApiServer() = default;

void ApiServer::AttachStreams(streams::StreamHub* hub) {
  streams_ = hub;
  uint64_t largest = kMaxBodyBytes;
  if (hub != nullptr && !hub->streams().empty()) largest = std::max(largest, BodyLimit("/firehose"));
  // The per-route limit is checked before routing (BodyLimit); this is the library's outer bound.
  http_->set_payload_max_length(largest);
}

uint64_t ApiServer::BodyLimit(const std::string& path) const {
  if (streams_ == nullptr) return kMaxBodyBytes;
  if (std::string name = StreamOfPath(path); !name.empty()) {
    const streams::StreamService* stream = streams_->Find(name);
    return stream != nullptr ? stream->config().max_request_bytes : kMaxBodyBytes;
  }
  if (path == "/firehose" || StartsWith(path, "/firehose/")) {
    // Records travel base64-encoded (4/3 of their size) inside a JSON envelope.
    uint64_t largest = 0;
    for (const auto& stream : streams_->streams()) largest = std::max(largest, stream->config().max_request_bytes);
    return largest / 3 * 4 + (1 << 20);
  }
  return kMaxBodyBytes;
}

bool ApiServer::IsStreamToken(const std::string& path, const std::string& bearer) const {
  std::string name = StreamOfPath(path);
  const streams::StreamService* stream = streams_ != nullptr && !name.empty() ? streams_->Find(name) : nullptr;
  return stream != nullptr && !stream->config().token.empty() &&
         ConstantTimeEquals(bearer, stream->config().token.Reveal());
}

Result<int> ApiServer::Bind() {
  if (options_.port == 0) {
    int port = http_->bind_to_any_port(options_.host);
    if (port < 0) return Status::IoError("cannot listen on {}: no free port", options_.host);
    bound_port_ = port;
    return port;
  }
  if (!http_->bind_to_port(options_.host, options_.port)) {
    return Status::IoError("cannot listen on {}:{} (server.listen in sluice.yaml): the address is in use or not local",
                           options_.host, options_.port);
  }
  bound_port_ = options_.port;
  return options_.port;
}

void ApiServer::Serve() { http_->listen_after_bind(); }

void ApiServer::Stop() { http_->stop(); }

void ApiServer::Routes() {
  http_->set_pre_routing_handler([this](const httplib::Request& request, httplib::Response& response) {
    auto refuse = [&response](int status, const std::string& message) {
      SendError(response, status, message);
      // The body (if any) is left unread: the connection cannot serve another request.
      response.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    };
    std::string host = request.get_header_value("Host");
    if (!HostAllowed(host, options_.host, bound_port_)) {
      return refuse(403, fmt::format("the Host header '{}' does not name this server; call it as "
                                     "http://127.0.0.1:{} (or the address of server.listen)",
                                     host, bound_port_));
    }
    if (request.has_header("Origin") && !SameOrigin(request.get_header_value("Origin"), host)) {
      return refuse(403,
                    "cross-origin requests are refused: the API answers only clients that are not web pages "
                    "of another site (curl, scripts, its own origin)");
    }
    if (ToLower(request.get_header_value("Transfer-Encoding")).find("chunked") != std::string::npos) {
      return refuse(411, "chunked request bodies are not accepted; send the body with a Content-Length");
    }
    uint64_t body_bytes = 0;
    if (request.has_header("Content-Length")) {
      std::string length = Trim(request.get_header_value("Content-Length"));
      if (length.empty() || length.size() > 19 || length.find_first_not_of("0123456789") != std::string::npos) {
        return refuse(400, fmt::format("Content-Length '{}' is not a number of bytes", length));
      }
      body_bytes = std::stoull(length);
      if (uint64_t limit = BodyLimit(request.path); body_bytes > limit) {
        return refuse(413, fmt::format("the request body of {} bytes is over the limit of {} bytes of {} (a stream's "
                                       "max_request_bytes; 1 MiB for the other API routes)",
                                       body_bytes, limit, request.path));
      }
    } else if (request.method == "POST" || request.method == "PUT" || request.method == "PATCH") {
      // A body-less POST (curl -X POST …) has no Content-Length; without one, the HTTP library would
      // wait for the client to close the connection before answering.
      const_cast<httplib::Request&>(request).set_header("Content-Length", "0");
    }
    if (body_bytes > 0 && !AcceptsContentType(request.path, request.get_header_value("Content-Type"))) {
      return refuse(415, fmt::format("the body must be JSON sent as 'Content-Type: application/json', not '{}'",
                                     request.get_header_value("Content-Type")));
    }
    if (request.path.rfind("/api/", 0) != 0) return httplib::Server::HandlerResponse::Unhandled;
    std::string bearer = BearerToken(request);
    if (ConstantTimeEquals(bearer, options_.token.Reveal())) return httplib::Server::HandlerResponse::Unhandled;
    // A stream's own token posts records to that stream and opens nothing else.
    if (request.method == "POST" && IsStreamToken(request.path, bearer))
      return httplib::Server::HandlerResponse::Unhandled;
    // A pipeline's own webhook token starts that pipeline and opens nothing else.
    static const std::regex kTriggerPath(R"(^/api/v1/pipelines/([^/]+)/trigger$)");
    std::smatch trigger;
    bool webhook_path = request.method == "POST" && std::regex_match(request.path, trigger, kTriggerPath);
    if (webhook_path && daemon_.IsWebhookToken(trigger[1], bearer)) return httplib::Server::HandlerResponse::Unhandled;
    response.set_header("WWW-Authenticate", "Bearer");
    SendError(response, 401,
              webhook_path && daemon_.HasWebhookToken(trigger[1])
                  ? "missing or wrong token: send the header 'Authorization: Bearer TOKEN' with the pipeline's webhook "
                    "token or the API token (server.token, or the file .sluice/api_token)"
                  : "missing or wrong token: send the header 'Authorization: Bearer TOKEN' with the API token "
                    "(server.token, or the file .sluice/api_token that sluice serve generates)");
    return httplib::Server::HandlerResponse::Handled;
  });
  http_->set_exception_handler([this](const httplib::Request&, httplib::Response& response, std::exception_ptr error) {
    std::string message = "internal error";
    try {
      if (error) std::rethrow_exception(error);
    } catch (const std::exception& e) {
      message = workspace_.Redact(e.what());
    } catch (...) {
    }
    SendError(response, 500, message);
  });
  // Errors the HTTP library raises itself (a malformed request, an oversize URL) get our JSON body too.
  http_->set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request& request, httplib::Response& response) {
        if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        if (response.status == 404) {
          SendError(response, 404, fmt::format("no endpoint {} {}; see docs/api.md", request.method, request.path));
        } else {
          SendError(response, response.status, LibraryErrorMessage(response.status));
        }
        return httplib::Server::HandlerResponse::Handled;
      }));
  // A client that waits for "100 Continue" before sending a large body learns at once it is too large.
  http_->set_expect_100_continue_handler([this](const httplib::Request& request, httplib::Response&) {
    std::string length = request.get_header_value("Content-Length");
    bool too_large =
        !length.empty() && (length.size() > 19 || length.find_first_not_of("0123456789") != std::string::npos ||
                            std::stoull(length) > BodyLimit(request.path));
    return too_large ? 413 : 100;
  });

  http_->Get("/healthz",
             [](const httplib::Request&, httplib::Response& response) { response.set_content("ok\n", "text/plain"); });

  http_->Get("/api/v1/pipelines", [this](const httplib::Request&, httplib::Response& response) {
    json list = json::array();
    for (const auto& p : pipelines_) {
      json jobs = json::array();
      for (const auto& job : p.jobs) {
        jobs.push_back({{"name", job.name},
                        {"mode", config::ToString(job.mode)},
                        {"depends_on", job.depends_on},
                        {"target", pipeline::JobTargetLabel(job)}});
      }
      list.push_back(
          {{"name", p.name}, {"description", p.description}, {"jobs", jobs}, {"triggers", ValueToJson(p.triggers)}});
    }
    SendJson(response, 200, json{{"pipelines", list}});
  });

  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    auto totals = workspace_.catalog().SummarizeRuns();
    auto pending = workspace_.catalog().PendingQueue();
    if (!totals.ok() || !pending.ok()) {
      response.status = 500;
      Status error = totals.ok() ? pending.status() : totals.status();
      response.set_content("# error: " + workspace_.Redact(error.message()) + "\n", "text/plain");
      return;
    }
    std::string text = MetricsText(*totals, *pending, daemon_.RunningRuns().size());
    if (streams_ != nullptr) text += streams_->MetricsText();
    text += pipeline::CdcMetricsText(pipeline::CdcStatuses(workspace_, pipelines_));  // asks each slot's server
    response.set_content(text, "text/plain; version=0.0.4");
  });
}

void ApiServer::RunRoutes() {
  http_->Post(R"(/api/v1/pipelines/([^/]+)/trigger)", [this](const httplib::Request& request,
                                                             httplib::Response& response) {
    std::string name = request.matches[1];
    bool known = std::any_of(pipelines_.begin(), pipelines_.end(), [&](const auto& p) { return p.name == name; });
    if (!known)
      return SendError(response, 404, fmt::format("no pipeline named '{}'; GET /api/v1/pipelines lists them", name));
    if (!daemon_.AcceptsApiTrigger(name)) {
      return SendError(response, 403,
                       fmt::format("pipeline '{}' does not accept API triggers: add `- webhook: true` (or "
                                   "`- on_demand: true`) to its triggers:",
                                   name));
    }
    auto options = TriggerOptions(request.body);
    if (!options.ok()) return SendError(response, 400, options.status().message());
    // Only the API token reaches here without being the pipeline's webhook token (pre-routing).
    bool webhook_token_only = !ConstantTimeEquals(BearerToken(request), options_.token.Reveal());
    if (webhook_token_only && (options->full_refresh || !options->only_job.empty())) {
      return SendError(response, 403,
                       fmt::format("a webhook token starts pipeline '{}' as configured; full_refresh and job need the "
                                   "API token (server.token, or .sluice/api_token)",
                                   name));
    }
    // A caller that retries a request it is unsure about sends the same key and gets the same run.
    std::string key = request.get_header_value("Idempotency-Key");
    std::string detail = key.empty() ? "POST /api/v1/pipelines/" + name + "/trigger" : "Idempotency-Key " + key;
    if (options->full_refresh) detail += " (full refresh)";
    if (!options->only_job.empty()) detail += fmt::format(" (job {})", options->only_job);
    auto queued = daemon_.Enqueue(name, "api", key.empty() ? "" : "api:" + key, detail, *options);
    if (!queued.ok())
      return SendError(response, HttpStatusFor(queued.status()), workspace_.Redact(queued.status().message()));
    SendJson(response, queued->created ? 202 : 200,
             json{{"run_id", queued->id.value},
                  {"pipeline", name},
                  {"created", queued->created},
                  {"status_url", "/api/v1/runs/" + queued->id.value}});
  });

  http_->Get("/api/v1/runs", [this](const httplib::Request& request, httplib::Response& response) {
    int limit = kDefaultRunsLimit;
    if (request.has_param("limit")) {
      auto parsed = ParseCount(request.get_param_value("limit"), "limit");
      if (!parsed.ok()) return SendError(response, 400, parsed.status().message());
      limit = static_cast<int>(std::min<size_t>(*parsed, 100000));
    }
    // table=zone.name keeps the runs with a job writing that table (details.jobs[].table).
    std::string table = request.get_param_value("table");
    auto runs = workspace_.catalog().ListRuns(table.empty() ? limit : 0, request.get_param_value("pipeline"));
    if (!runs.ok()) return SendError(response, 500, workspace_.Redact(runs.status().message()));
    json list = json::array();
    for (const auto& run : *runs) {
      json item = RunToJson(run);
      if (!table.empty() && !RunWritesTable(item, table)) continue;
      list.push_back(std::move(item));
      if (list.size() == static_cast<size_t>(limit)) break;
    }
    SendJson(response, 200, json{{"runs", list}});
  });

  http_->Get(R"(/api/v1/runs/([^/]+))", [this](const httplib::Request& request, httplib::Response& response) {
    std::string id = request.matches[1];
    auto run = workspace_.catalog().GetRun(id);
    if (!run.ok()) return SendError(response, HttpStatusFor(run.status()), workspace_.Redact(run.status().message()));
    if (!*run) {
      // Queued but not started yet: the queue entry is all there is.
      auto queued = workspace_.catalog().GetQueuedRun(id);
      if (queued.ok() && *queued) return SendJson(response, 200, QueuedRunToJson(**queued));
      return SendError(response, 404, fmt::format("no run with id '{}'; GET /api/v1/runs lists them", id));
    }
    json body = RunToJson(**run);
    auto [log, truncated] = ReadLogTail(workspace_.RunLogPath((*run)->id), kMaxLogBytes);
    body["log"] = log ? json(workspace_.Redact(*log)) : json(nullptr);
    body["log_truncated"] = truncated;
    SendJson(response, 200, body);
  });

  http_->Post(R"(/api/v1/runs/([^/]+)/cancel)", [this](const httplib::Request& request, httplib::Response& response) {
    auto outcome = pipeline::RequestCancel(workspace_, request.matches[1]);
    if (!outcome.ok()) {
      return SendError(response, HttpStatusFor(outcome.status()), workspace_.Redact(outcome.status().message()));
    }
    json body{{"run_id", outcome->run_id.value}, {"cancel_requested", true}};
    if (outcome->outcome == pipeline::CancelOutcome::kDequeued) {
      body["status"] = "cancelled";  // it was still queued: done now, nothing to wait for
      return SendJson(response, 200, body);
    }
    SendJson(response, 202, body);
  });

  http_->Get("/api/v1/queue", [this](const httplib::Request&, httplib::Response& response) {
    auto pending = workspace_.catalog().PendingQueue();
    if (!pending.ok()) return SendError(response, 500, workspace_.Redact(pending.status().message()));
    json list = json::array();
    for (const auto& entry : *pending) list.push_back(QueuedRunToJson(entry));
    SendJson(response, 200, json{{"queue", list}, {"running", daemon_.RunningRuns()}});
  });
}

void ApiServer::DataRoutes() {
  http_->Get("/api/v1/tables", [this](const httplib::Request&, httplib::Response& response) {
    auto tables = workspace_.catalog().ListTables();
    if (!tables.ok()) return SendError(response, 500, workspace_.Redact(tables.status().message()));
    json list = json::array();
    for (const auto& t : *tables) {
      json columns = json::array();
      for (const auto& c : t.schema.columns) {
        columns.push_back({{"name", c.name}, {"type", c.type}, {"nullable", c.nullable}});
      }
      list.push_back({{"name", t.name.ToString()},
                      {"schema", columns},
                      {"rows", t.row_count},
                      {"files", t.file_count},
                      {"bytes", t.total_bytes},
                      {"version", t.current_version},
                      {"partition_columns", t.partition_columns},
                      {"updated_at", FormatTimestampUtc(t.updated_at)}});
    }
    SendJson(response, 200, json{{"tables", list}});
  });
  QueryRoutes();
  IcebergRoutes();
}

}  // namespace sluice::server
