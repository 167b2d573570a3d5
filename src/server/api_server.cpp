#include "server/api_server.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "common/clock.hpp"
#include "common/json_limits.hpp"
#include "common/strings.hpp"
#include "pipeline/catalog_views.hpp"
#include "pipeline/query_limits.hpp"
#include "pipeline/runner.hpp"

namespace sluice::server {
namespace {

using nlohmann::json;

constexpr size_t kDefaultQueryRows = 100;
constexpr size_t kMaxQueryRows = 10000;
constexpr int kDefaultRunsLimit = 50;
constexpr size_t kMaxLogBytes = 1 << 20;
constexpr double kDefaultQuerySeconds = 30;
constexpr double kMaxQuerySeconds = 600;

void SendJson(httplib::Response& response, int status, const json& body) {
  response.status = status;
  response.set_content(body.dump(2) + "\n", "application/json");
}

void SendError(httplib::Response& response, int status, const std::string& message) {
  SendJson(response, status, json{{"error", message}});
}

/// Maps a Status to the HTTP status that tells the caller whose fault it was.
int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kConflict: return 409;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

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
  return json{{"id", run.id},
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

/// Interrupts the connection's running statement once `limit` has passed.
class QueryDeadline {
 public:
  QueryDeadline(engine::Connection& connection, std::chrono::duration<double> limit)
      : watchdog_([this, &connection, limit] {
          std::unique_lock lock(mutex_);
          if (!done_cv_.wait_for(lock, limit, [this] { return done_; })) {
            expired_ = true;
            connection.Interrupt();
          }
        }) {}
  ~QueryDeadline() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    done_cv_.notify_all();
    watchdog_.join();
  }
  bool expired() {
    std::lock_guard lock(mutex_);
    return expired_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false, expired_ = false;
  std::thread watchdog_;
};

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
         "# TYPE sluice_bytes_written_total counter\n" + bytes +
         "# HELP sluice_run_duration_seconds Duration of finished runs.\n# TYPE sluice_run_duration_seconds summary\n" +
         duration_sum + duration_count +
         fmt::format("# HELP sluice_queue_depth Runs waiting in the queue.\n# TYPE sluice_queue_depth gauge\n"
                     "sluice_queue_depth {}\n"
                     "# HELP sluice_runs_in_progress Runs executing now.\n# TYPE sluice_runs_in_progress gauge\n"
                     "sluice_runs_in_progress {}\n",
                     queued, running);
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
  Routes();
  RunRoutes();
  DataRoutes();
}

ApiServer::~ApiServer() = default;

Result<int> ApiServer::Bind() {
  if (options_.port == 0) {
    int port = http_->bind_to_any_port(options_.host);
    if (port < 0) return Status::IoError("cannot listen on {}: no free port", options_.host);
    return port;
  }
  if (!http_->bind_to_port(options_.host, options_.port)) {
    return Status::IoError("cannot listen on {}:{} (server.listen in sluice.yaml): the address is in use or not local",
                           options_.host, options_.port);
  }
  return options_.port;
}

void ApiServer::Serve() { http_->listen_after_bind(); }

void ApiServer::Stop() { http_->stop(); }

void ApiServer::Routes() {
  http_->set_pre_routing_handler([this](const httplib::Request& request, httplib::Response& response) {
    if (request.path.rfind("/api/", 0) != 0) return httplib::Server::HandlerResponse::Unhandled;
    std::string authorization = request.get_header_value("Authorization");
    std::string bearer = authorization.rfind("Bearer ", 0) == 0 ? authorization.substr(7) : "";
    // A pipeline's own webhook token starts that pipeline and opens nothing else.
    static const std::regex kTriggerPath(R"(^/api/v1/pipelines/([^/]+)/trigger$)");
    std::smatch trigger;
    bool own_token_needed = false;
    if (request.method == "POST" && std::regex_match(request.path, trigger, kTriggerPath)) {
      if (daemon_.IsWebhookToken(trigger[1], bearer)) return httplib::Server::HandlerResponse::Unhandled;
      own_token_needed = daemon_.HasWebhookToken(trigger[1]);
    }
    if (!options_.token.empty() && bearer == options_.token.Reveal()) return httplib::Server::HandlerResponse::Unhandled;
    if (options_.token.empty() && !own_token_needed) return httplib::Server::HandlerResponse::Unhandled;
    response.set_header("WWW-Authenticate", "Bearer");
    SendError(response, 401,
              own_token_needed ? "missing or wrong token: send the header 'Authorization: Bearer TOKEN' with the "
                                 "pipeline's webhook token (or server.token)"
                               : "missing or wrong token: send the header 'Authorization: Bearer TOKEN' (server.token)");
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
  http_->set_error_handler([](const httplib::Request& request, httplib::Response& response) {
    if (response.status == 404 && response.body.empty()) {
      SendError(response, 404, fmt::format("no endpoint {} {}; see docs/api.md", request.method, request.path));
    }
  });

  http_->Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("ok\n", "text/plain");
  });

  http_->Get("/api/v1/pipelines", [this](const httplib::Request&, httplib::Response& response) {
    json list = json::array();
    for (const auto& p : pipelines_) {
      json jobs = json::array();
      for (const auto& job : p.jobs) {
        jobs.push_back({{"name", job.name}, {"mode", job.mode}, {"depends_on", job.depends_on},
                        {"target", job.target.zone + "." + job.target.table}});
      }
      list.push_back({{"name", p.name}, {"description", p.description}, {"jobs", jobs},
                      {"triggers", ValueToJson(p.triggers)}});
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
    response.set_content(MetricsText(*totals, *pending, daemon_.RunningRuns().size()), "text/plain; version=0.0.4");
  });
}

void ApiServer::RunRoutes() {
  http_->Post(R"(/api/v1/pipelines/([^/]+)/trigger)", [this](const httplib::Request& request,
                                                             httplib::Response& response) {
    std::string name = request.matches[1];
    bool known = std::any_of(pipelines_.begin(), pipelines_.end(), [&](const auto& p) { return p.name == name; });
    if (!known) return SendError(response, 404, fmt::format("no pipeline named '{}'; GET /api/v1/pipelines lists them", name));
    if (!daemon_.AcceptsApiTrigger(name)) {
      return SendError(response, 403,
                       fmt::format("pipeline '{}' does not accept API triggers: add `- webhook: true` (or "
                                   "`- on_demand: true`) to its triggers:",
                                   name));
    }
    auto options = TriggerOptions(request.body);
    if (!options.ok()) return SendError(response, 400, options.status().message());
    // A caller that retries a request it is unsure about sends the same key and gets the same run.
    std::string key = request.get_header_value("Idempotency-Key");
    std::string detail = key.empty() ? "POST /api/v1/pipelines/" + name + "/trigger" : "Idempotency-Key " + key;
    if (options->full_refresh) detail += " (full refresh)";
    if (!options->only_job.empty()) detail += fmt::format(" (job {})", options->only_job);
    auto queued = daemon_.Enqueue(name, "api", key.empty() ? "" : "api:" + key, detail, *options);
    if (!queued.ok()) return SendError(response, HttpStatusFor(queued.status()), workspace_.Redact(queued.status().message()));
    SendJson(response, queued->created ? 202 : 200,
             json{{"run_id", queued->id}, {"pipeline", name}, {"created", queued->created},
                  {"status_url", "/api/v1/runs/" + queued->id}});
  });

  http_->Get("/api/v1/runs", [this](const httplib::Request& request, httplib::Response& response) {
    int limit = kDefaultRunsLimit;
    if (request.has_param("limit")) {
      auto parsed = ParseCount(request.get_param_value("limit"), "limit");
      if (!parsed.ok()) return SendError(response, 400, parsed.status().message());
      limit = static_cast<int>(std::min<size_t>(*parsed, 100000));
    }
    auto runs = workspace_.catalog().ListRuns(limit, request.get_param_value("pipeline"));
    if (!runs.ok()) return SendError(response, 500, workspace_.Redact(runs.status().message()));
    json list = json::array();
    for (const auto& run : *runs) list.push_back(RunToJson(run));
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
    auto [log, truncated] = ReadLogTail(workspace_.RunLogPath((*run)->id.value), kMaxLogBytes);
    body["log"] = log ? json(workspace_.Redact(*log)) : json(nullptr);
    body["log_truncated"] = truncated;
    SendJson(response, 200, body);
  });

  http_->Post(R"(/api/v1/runs/([^/]+)/cancel)", [this](const httplib::Request& request, httplib::Response& response) {
    auto outcome = pipeline::RequestCancel(workspace_, request.matches[1]);
    if (!outcome.ok()) {
      return SendError(response, HttpStatusFor(outcome.status()), workspace_.Redact(outcome.status().message()));
    }
    json body{{"run_id", std::string(request.matches[1])}, {"cancel_requested", true}};
    if (*outcome == pipeline::CancelOutcome::kDequeued) {
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
      list.push_back({{"name", t.name.ToString()}, {"schema", columns}, {"rows", t.row_count}, {"files", t.file_count},
                      {"bytes", t.total_bytes}, {"version", t.current_version},
                      {"partition_columns", t.partition_columns}, {"updated_at", FormatTimestampUtc(t.updated_at)}});
    }
    SendJson(response, 200, json{{"tables", list}});
  });

  http_->Post("/api/v1/query", [this](const httplib::Request& request, httplib::Response& response) {
    json body = ParseJsonOrDiscarded(request.body);
    if (body.is_discarded() || !body.is_object() || !body.contains("sql") || !body["sql"].is_string()) {
      return SendError(response, 400, "the body must be JSON {\"sql\": \"SELECT …\", \"max_rows\": 100}");
    }
    size_t max_rows = kDefaultQueryRows;
    if (body.contains("max_rows")) {
      if (!body["max_rows"].is_number_unsigned() || body["max_rows"].get<size_t>() == 0) {
        return SendError(response, 400, "max_rows must be a positive whole number");
      }
      max_rows = std::min(body["max_rows"].get<size_t>(), kMaxQueryRows);
    }
    double seconds = kDefaultQuerySeconds;
    if (body.contains("timeout_seconds")) {
      if (!body["timeout_seconds"].is_number() || body["timeout_seconds"].get<double>() <= 0) {
        return SendError(response, 400, "timeout_seconds must be a positive number");
      }
      seconds = std::min(body["timeout_seconds"].get<double>(), kMaxQuerySeconds);
    }
    std::string sql = body["sql"].get<std::string>();
    auto connection = workspace_.engine().Connect();
    if (!connection.ok()) return SendError(response, 500, workspace_.Redact(connection.status().message()));
    // One plan serves the scan limit and the views, so a remote lake fetches only the files counted.
    auto plan = pipeline::PlanScan(**connection, workspace_.catalog(), sql);
    if (!plan.ok()) return SendError(response, HttpStatusFor(plan.status()), workspace_.Redact(plan.status().message()));
    Status st = pipeline::CheckScanLimit(project_.query, *plan);
    if (!st.ok()) return SendError(response, HttpStatusFor(st), workspace_.Redact(st.message()));
    // zone.table views live in the shared engine, where a running processing job narrows them to its input.
    std::lock_guard views_lock(workspace_.catalog_input_mutex());
    st = pipeline::BindQueryViews(**connection, workspace_.catalog(), workspace_.lake(), *plan, std::nullopt,
                                  &workspace_.query_cache());
    if (!st.ok()) return SendError(response, 500, workspace_.Redact(st.message()));
    QueryDeadline deadline(**connection, std::chrono::duration<double>(seconds));
    auto fail = [&](const Status& error) {
      if (deadline.expired()) {
        return SendError(response, 408,
                         fmt::format("query stopped after its time limit of {}s (timeout_seconds)", seconds));
      }
      SendError(response, 400, workspace_.Redact("query failed: " + error.message()));
    };
    auto columns = (*connection)->Describe(sql);
    if (!columns.ok()) return fail(columns.status());
    // DuckDB renders each row as a JSON object with proper types (numbers stay numbers).
    auto stream = (*connection)->Stream(fmt::format("SELECT to_json(q)::VARCHAR AS j FROM ({}) q", sql));
    if (!stream.ok()) return fail(stream.status());
    json rows = json::array();
    bool truncated = false;
    std::vector<engine::TextRow> batch;
    while (!truncated) {
      st = (*stream)->Next(&batch);
      if (!st.ok()) return fail(st);
      if (batch.empty()) break;
      for (const auto& row : batch) {
        if (rows.size() == max_rows) {
          truncated = true;
          break;
        }
        json cell = row[0] ? ParseJsonOrDiscarded(*row[0]) : json(nullptr);
        rows.push_back(cell.is_discarded() ? json(*row[0]) : std::move(cell));
      }
    }
    json column_list = json::array();
    for (const auto& c : *columns) column_list.push_back({{"name", c.name}, {"type", c.type}});
    SendJson(response, 200, json{{"columns", column_list}, {"rows", rows}, {"truncated", truncated}});
  });
}

}  // namespace sluice::server
