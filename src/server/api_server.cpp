#include "server/api_server.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "common/clock.hpp"
#include "pipeline/catalog_views.hpp"
#include "pipeline/runner.hpp"

namespace sluice::server {
namespace {

using nlohmann::json;

constexpr size_t kDefaultQueryRows = 100;
constexpr size_t kMaxQueryRows = 10000;
constexpr int kDefaultRunsLimit = 50;

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
  json details = json::parse(run.details_json, nullptr, /*allow_exceptions=*/false);
  out["details"] = details.is_discarded() ? json::object() : details;
  return out;
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

ApiServer::ApiServer(pipeline::Workspace& workspace, std::vector<config::PipelineConfig> pipelines,
                     ServerOptions options)
    : workspace_(workspace),
      pipelines_(std::move(pipelines)),
      options_(std::move(options)),
      http_(std::make_unique<httplib::Server>()) {
  Routes();
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

bool ApiServer::ClaimPipeline(const std::string& name) {
  std::lock_guard lock(running_mutex_);
  return running_pipelines_.insert(name).second;
}

void ApiServer::ReleasePipeline(const std::string& name) {
  std::lock_guard lock(running_mutex_);
  running_pipelines_.erase(name);
}

void ApiServer::Routes() {
  http_->set_pre_routing_handler([this](const httplib::Request& request, httplib::Response& response) {
    if (options_.token.empty() || request.path.rfind("/api/", 0) != 0) return httplib::Server::HandlerResponse::Unhandled;
    std::string expected = "Bearer " + options_.token.Reveal();
    if (request.get_header_value("Authorization") == expected) return httplib::Server::HandlerResponse::Unhandled;
    response.set_header("WWW-Authenticate", "Bearer");
    SendError(response, 401, "missing or wrong token: send the header 'Authorization: Bearer TOKEN' (server.token)");
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

  // Synchronous: the response carries the run's outcome once it has ended.
  http_->Post(R"(/api/v1/pipelines/([^/]+)/trigger)", [this](const httplib::Request& request,
                                                             httplib::Response& response) {
    std::string name = request.matches[1];
    bool known = std::any_of(pipelines_.begin(), pipelines_.end(), [&](const auto& p) { return p.name == name; });
    if (!known) return SendError(response, 404, fmt::format("no pipeline named '{}'", name));
    if (!ClaimPipeline(name)) {
      return SendError(response, 409, fmt::format("pipeline '{}' is already running; try again when it ends", name));
    }
    pipeline::PipelineRunner runner(workspace_, pipelines_);
    pipeline::RunRequest run_request;
    run_request.pipeline = name;
    run_request.trigger = "api";
    run_request.full_refresh = request.get_param_value("full_refresh") == "true";
    auto outcome = runner.Run(run_request, nullptr);
    ReleasePipeline(name);
    if (!outcome.ok()) {
      return SendError(response, HttpStatusFor(outcome.status()),
                       workspace_.Redact(outcome.status().message()));
    }
    json jobs = json::array();
    for (const auto& job : outcome->jobs) {
      jobs.push_back({{"job", job.job}, {"status", job.status}, {"table", job.table}, {"rows_written", job.rows_written},
                      {"message", job.message}});
    }
    json body = RunToJson(outcome->record);
    body["jobs"] = jobs;
    SendJson(response, 200, body);
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
    if (!run.ok()) return SendError(response, 500, workspace_.Redact(run.status().message()));
    if (!*run) return SendError(response, 404, fmt::format("no run with id '{}'; GET /api/v1/runs lists them", id));
    json body = RunToJson(**run);
    std::ifstream log(workspace_.RunLogPath(id), std::ios::binary);
    if (log) {
      std::ostringstream text;
      text << log.rdbuf();
      body["log"] = workspace_.Redact(text.str());
    } else {
      body["log"] = nullptr;
    }
    SendJson(response, 200, body);
  });

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
    json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
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
    std::string sql = body["sql"].get<std::string>();
    auto connection = workspace_.engine().Connect();
    if (!connection.ok()) return SendError(response, 500, workspace_.Redact(connection.status().message()));
    Status st = pipeline::BindCatalogViews(**connection, workspace_.catalog(), workspace_.lake(), std::nullopt,
                                           &workspace_.query_cache());
    if (!st.ok()) return SendError(response, 500, workspace_.Redact(st.message()));
    auto columns = (*connection)->Describe(sql);
    if (!columns.ok()) return SendError(response, 400, workspace_.Redact("query failed: " + columns.status().message()));
    // DuckDB renders each row as a JSON object with proper types (numbers stay numbers).
    auto stream = (*connection)->Stream(fmt::format("SELECT to_json(q)::VARCHAR AS j FROM ({}) q", sql));
    if (!stream.ok()) return SendError(response, 400, workspace_.Redact("query failed: " + stream.status().message()));
    json rows = json::array();
    bool truncated = false;
    std::vector<engine::TextRow> batch;
    while (!truncated) {
      st = (*stream)->Next(&batch);
      if (!st.ok()) return SendError(response, 400, workspace_.Redact("query failed: " + st.message()));
      if (batch.empty()) break;
      for (const auto& row : batch) {
        if (rows.size() == max_rows) {
          truncated = true;
          break;
        }
        rows.push_back(row[0] ? json::parse(*row[0]) : json(nullptr));
      }
    }
    json column_list = json::array();
    for (const auto& c : *columns) column_list.push_back({{"name", c.name}, {"type", c.type}});
    SendJson(response, 200, json{{"columns", column_list}, {"rows", rows}, {"truncated", truncated}});
  });

  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    auto runs = workspace_.catalog().ListRuns(0);
    if (!runs.ok()) {
      response.status = 500;
      response.set_content("# error: " + workspace_.Redact(runs.status().message()) + "\n", "text/plain");
      return;
    }
    std::map<std::string, int64_t> by_status;
    int64_t rows = 0, bytes = 0, finished = 0;
    double seconds = 0;
    for (const auto& run : *runs) {
      ++by_status[catalog::RunStatusName(run.status)];
      rows += run.rows_written;
      bytes += run.bytes_written;
      if (run.finished_at) {
        ++finished;
        seconds += std::chrono::duration<double>(*run.finished_at - run.started_at).count();
      }
    }
    std::string text =
        "# HELP sluice_runs_total Pipeline runs recorded in the catalog, by status.\n# TYPE sluice_runs_total counter\n";
    for (const auto& [status, count] : by_status) text += fmt::format("sluice_runs_total{{status=\"{}\"}} {}\n", status, count);
    text += fmt::format(
        "# HELP sluice_rows_written_total Rows written by all runs.\n# TYPE sluice_rows_written_total counter\n"
        "sluice_rows_written_total {}\n"
        "# HELP sluice_bytes_written_total Bytes of Parquet written by all runs.\n"
        "# TYPE sluice_bytes_written_total counter\nsluice_bytes_written_total {}\n"
        "# HELP sluice_run_duration_seconds Duration of finished runs.\n# TYPE sluice_run_duration_seconds summary\n"
        "sluice_run_duration_seconds_sum {}\nsluice_run_duration_seconds_count {}\n",
        rows, bytes, seconds, finished);
    response.set_content(text, "text/plain; version=0.0.4");
  });
}

}  // namespace sluice::server
