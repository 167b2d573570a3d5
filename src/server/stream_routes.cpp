// POST /api/v1/streams/NAME/records (docs/streams.md): records answered only once they are fsync'd.

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "common/json_limits.hpp"
#include "common/strings.hpp"
#include "server/api_server.hpp"
#include "server/bounded_body.hpp"
#include "server/json_response.hpp"
#include "streams/record_batch.hpp"
#include "streams/stream_service.hpp"

namespace sluice::server {
namespace {

using nlohmann::json;

/// ?ack=lake waits at most this long for the flush that commits the records.
constexpr auto kAckLakeTimeout = std::chrono::seconds(60);
/// Longest Idempotency-Key accepted (they are remembered in the spool).
constexpr size_t kMaxIdempotencyKey = 256;

void SendText(httplib::Response& response, int status, const std::string& json_text) {
  response.status = status;
  response.set_content(json_text + "\n", "application/json");
}

/// The spool drains by flushes; a quarter of the age bound (1 to 30 s) is a fair wait for one.
std::string RetryAfterSeconds(const streams::StreamService& stream) {
  auto age = std::chrono::duration_cast<std::chrono::seconds>(stream.config().max_age).count();
  return std::to_string(std::clamp<int64_t>(age / 4, 1, 30));
}

}  // namespace

void ApiServer::StreamRoutes() {
  http_->Post(R"(/api/v1/streams/([^/]+)/records)", [this](const httplib::Request& request, httplib::Response& response,
                                                           const httplib::ContentReader& reader) {
    std::string name = request.matches[1];
    streams::StreamService* stream = streams_ != nullptr ? streams_->Find(name) : nullptr;
    if (stream == nullptr) {
      response.set_header("Connection", "close");  // the body is left unread
      return SendError(response, 404,
                       fmt::format("no stream named '{}'; streams: in sluice.yaml lists them (docs/streams.md)", name));
    }
    const config::StreamConfig& config = stream->config();
    std::string key = request.get_header_value("Idempotency-Key");
    if (key.size() > kMaxIdempotencyKey) {
      response.set_header("Connection", "close");
      return SendError(response, 400, fmt::format("the Idempotency-Key is longer than {} bytes", kMaxIdempotencyKey));
    }
    BoundedBody body = ReadBoundedBody(reader, config.max_request_bytes);
    if (body.over_limit) {
      response.set_header("Connection", "close");
      return SendError(response, 413,
                       fmt::format("the request body is over max_request_bytes of stream '{}' ({} bytes, after gzip "
                                   "decompression); send fewer records per request",
                                   name, config.max_request_bytes));
    }
    if (body.unreadable) {
      response.set_header("Connection", "close");
      return SendError(response, 400, "the request body could not be read (a broken connection or corrupt gzip)");
    }
    std::string type = ToLower(request.get_header_value("Content-Type"));
    auto format = StartsWith(type, "application/x-ndjson") ? streams::BodyFormat::kNdjson : streams::BodyFormat::kJson;
    streams::BatchLimits limits{config.max_record_size, config.max_request_records};
    auto parsed = streams::ParseRecordBody(body.text, format, limits);
    if (!parsed.ok()) return SendError(response, 400, parsed.status().message());
    if (parsed->too_many) {
      return SendError(response, 413,
                       fmt::format("the request holds more than max_request_records ({}) records of stream '{}'; send "
                                   "them in several requests",
                                   config.max_request_records, name));
    }
    const streams::RecordBatch& batch = parsed->batch;
    stream->counters().records_failed += batch.failed.size();
    std::string answer = streams::BatchAnswerJson(batch);
    if (batch.records.empty() && key.empty()) return SendText(response, 200, answer);

    auto accepted = stream->Accept(batch.records, key.empty() ? "" : "api:" + key, answer);
    if (!accepted.ok()) return SendError(response, 503, workspace_.Redact(accepted.status().message()));
    if (accepted->kind == streams::AcceptOutcome::Kind::kSpoolFull) {
      response.set_header("Retry-After", RetryAfterSeconds(*stream));
      return SendError(response, 429,
                       fmt::format("the spool of stream '{}' is over max_spool_bytes ({} bytes) while it is written to "
                                   "the lake; retry after the Retry-After seconds",
                                   name, config.max_spool_bytes));
    }
    if (accepted->kind == streams::AcceptOutcome::Kind::kRemembered) {
      response.set_header("Idempotent-Replayed", "true");
      return SendText(response, 200, accepted->answer);
    }
    if (request.get_param_value("ack") == "lake" && !batch.records.empty()) {
      Status landed = stream->WaitInLake(accepted->ticket.segment, kAckLakeTimeout);
      json out = json::parse(answer);
      out["in_lake"] = landed.ok();
      if (!landed.ok()) out["error"] = landed.message();
      return SendJson(response, landed.ok() ? 200 : 202, out);
    }
    SendText(response, 200, answer);
  });
}

}  // namespace sluice::server
