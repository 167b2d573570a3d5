#include <httplib.h>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "common/json_limits.hpp"
#include "pipeline/catalog_views.hpp"
#include "pipeline/query_limits.hpp"
#include "query/sandboxed_engine.hpp"
#include "server/api_server.hpp"
#include "server/json_response.hpp"

namespace sluice::server {
namespace {

using nlohmann::json;

constexpr size_t kDefaultQueryRows = 100;
constexpr size_t kMaxQueryRows = 10000;
constexpr double kDefaultQuerySeconds = 30;
constexpr double kMaxQuerySeconds = 600;

/// Interrupts the connection's running statement once `limit` has passed.
class QueryDeadline {
 public:
  QueryDeadline(engine::Connection& connection, std::chrono::duration<double> limit)
      : watchdog_([this, &connection, limit] {
          try {
            std::unique_lock lock(mutex_);
            if (!done_cv_.wait_for(lock, limit, [this] { return done_; })) {
              expired_ = true;
              connection.Interrupt();
            }
          } catch (...) {
            connection.Interrupt();  // a deadline that cannot be kept stops the query
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

}  // namespace

void ApiServer::QueryRoutes() {
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
    std::optional<int64_t> as_of;
    if (body.contains("as_of")) {
      if (!body["as_of"].is_number_unsigned() || body["as_of"].get<int64_t>() < 1) {
        return SendError(response, 400, "as_of must be a table version, a positive whole number");
      }
      as_of = body["as_of"].get<int64_t>();
    }
    std::string sql = body["sql"].get<std::string>();
    // One query at a time, each on a fresh locked-down engine: it sees the lake's files and nothing else
    // of the machine, and cannot touch the pipelines' database.
    std::lock_guard one_query(query_mutex_);
    auto sandbox = query::SandboxedEngine::Open(sandbox_options_);
    if (!sandbox.ok()) return SendError(response, 500, workspace_.Redact(sandbox.status().message()));
    engine::Connection* connection = &(*sandbox)->connection();
    // Refused before anything is planned or fetched; checked again, bound, once the views exist.
    Status st = query::CheckSingleSelectParsed(*connection, sql);
    if (!st.ok()) return SendError(response, HttpStatusFor(st), workspace_.Redact(st.message()));
    // One plan serves the scan limit and the views, so a remote lake fetches only the files counted.
    auto plan = pipeline::PlanScan(*connection, workspace_.catalog(), sql, as_of);
    if (!plan.ok())
      return SendError(response, HttpStatusFor(plan.status()), workspace_.Redact(plan.status().message()));
    st = pipeline::CheckScanLimit(project_.query, *plan);
    if (!st.ok()) return SendError(response, HttpStatusFor(st), workspace_.Redact(st.message()));
    st = pipeline::BindQueryViews(*connection, workspace_.catalog(), workspace_.lake(), *plan, as_of,
                                  &workspace_.query_cache());
    if (!st.ok()) return SendError(response, 500, workspace_.Redact(st.message()));
    QueryDeadline deadline(*connection, std::chrono::duration<double>(seconds));
    auto fail = [&](const Status& error) {
      if (deadline.expired()) {
        return SendError(response, 408,
                         fmt::format("query stopped after its time limit of {}s (timeout_seconds)", seconds));
      }
      SendError(response, 400, workspace_.Redact("query failed: " + query::ExplainSandboxError(error).message()));
    };
    st = query::CheckReadOnlyQuery(*connection, sql);
    if (!st.ok()) return SendError(response, 400, workspace_.Redact(st.message()));
    // DuckDB renders each row as a JSON object with proper types (numbers stay numbers).
    std::string rows_sql = fmt::format("SELECT to_json(q)::VARCHAR AS j FROM (\n{}\n) q", sql);
    st = query::CheckReadOnlyQuery(*connection, rows_sql);
    if (!st.ok()) return SendError(response, 400, workspace_.Redact(st.message()));
    auto columns = connection->Describe(sql);
    if (!columns.ok()) return fail(columns.status());
    auto stream = connection->Stream(rows_sql);
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
