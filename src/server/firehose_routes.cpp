// Amazon Data Firehose compatibility (docs/streams.md): the JSON 1.1 API of AWS SDK clients
// (PutRecord / PutRecordBatch, SigV4-signed) at /firehose, and Firehose's HTTP-endpoint delivery
// requests at /firehose/http-endpoint/NAME.

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "common/hash.hpp"
#include "common/ids.hpp"
#include "common/json_limits.hpp"
#include "common/strings.hpp"
#include "server/api_server.hpp"
#include "server/bounded_body.hpp"
#include "server/firehose_protocol.hpp"
#include "streams/record_batch.hpp"
#include "streams/stream_service.hpp"

namespace sluice::server {
namespace {

using nlohmann::json;

constexpr std::string_view kTargetPrefix = "Firehose_20150804.";

/// An error the way AWS JSON-protocol services send them, so SDKs raise the named exception.
void SendAwsError(httplib::Response& response, int status, const std::string& code, const std::string& message) {
  response.status = status;
  response.set_header("x-amzn-ErrorType", code);
  response.set_content(json{{"__type", code}, {"message", message}}.dump(), "application/x-amz-json-1.1");
}

void SendAwsJson(httplib::Response& response, const std::string& body) {
  response.status = 200;
  response.set_content(body, "application/x-amz-json-1.1");
}

}  // namespace

void ApiServer::FirehoseRoutes() {
  // SDKs append the JSON protocol's "/" to the endpoint's path: /firehose/.
  http_->Post(R"(/firehose/?)", [this](const httplib::Request& request, httplib::Response& response,
                                       const httplib::ContentReader& reader) {
    response.set_header("x-amzn-RequestId", RandomHex(16));
    std::string target = request.get_header_value("X-Amz-Target");
    std::string operation = StartsWith(target, kTargetPrefix) ? target.substr(kTargetPrefix.size()) : "";
    if (operation != "PutRecord" && operation != "PutRecordBatch") {
      response.set_header("Connection", "close");
      return SendAwsError(
          response, 400, "UnknownOperationException",
          fmt::format("operation '{}' is not served; sluice takes PutRecord and PutRecordBatch", target));
    }
    BoundedBody body = ReadBoundedBody(reader, BodyLimit("/firehose"));
    if (body.over_limit || body.unreadable) {
      response.set_header("Connection", "close");
      return SendAwsError(
          response, body.over_limit ? 413 : 400, "InvalidArgumentException",
          body.over_limit ? "the request is over the size limit" : "the request body could not be read");
    }
    // The signature is checked before anything of the body is believed.
    auto authorization = ParseSigV4Authorization(request.get_header_value("Authorization"));
    if (!authorization.ok())
      return SendAwsError(response, 400, "MissingAuthenticationTokenException", authorization.status().message());
    streams::StreamService* signer_stream = nullptr;
    const config::StreamAwsKey* key = nullptr;
    static const std::vector<std::unique_ptr<streams::StreamService>> kNoStreams;
    for (const auto& stream : streams_ != nullptr ? streams_->streams() : kNoStreams) {
      for (const auto& candidate : stream->config().aws_access_keys) {
        if (candidate.id == authorization->key_id) {
          key = &candidate;
          signer_stream = stream.get();
        }
      }
      if (key != nullptr) break;
    }
    if (key == nullptr) {
      return SendAwsError(response, 400, "UnrecognizedClientException",
                          "the security token included in the request is invalid: no stream lists this access key id "
                          "in aws_access_keys");
    }
    ReceivedRequest received{request.method, request.path, "",
                             [&request](const std::string& name) { return request.get_header_value(name); }, body.text};
    if (size_t q = request.target.find('?'); q != std::string::npos) received.query = request.target.substr(q + 1);
    // The signature's freshness is judged against the wall clock the client signed with, not an injected one.
    Status verified = VerifySigV4(*authorization, received, key->secret, "firehose", std::chrono::system_clock::now());
    if (!verified.ok()) return SendAwsError(response, 403, "InvalidSignatureException", verified.message());

    auto document = ParseJsonBounded(body.text, "the request body");
    if (!document.ok() || !document->is_object()) {
      return SendAwsError(response, 400, "SerializationException", "the body is not a JSON object");
    }
    std::string name = document->value("DeliveryStreamName", "");
    streams::StreamService* stream = streams_->Find(name);
    if (stream == nullptr) {
      return SendAwsError(response, 400, "ResourceNotFoundException", fmt::format("Firehose {} not found", name));
    }
    bool allowed = std::any_of(stream->config().aws_access_keys.begin(), stream->config().aws_access_keys.end(),
                               [&](const auto& k) { return k.id == key->id; });
    if (!allowed || signer_stream == nullptr) {
      return SendAwsError(response, 400, "AccessDeniedException",
                          fmt::format("access key {} may not put records to stream {}", key->id, name));
    }
    const config::StreamConfig& config = stream->config();
    streams::BatchLimits limits{config.max_record_size, config.max_request_records};
    json records = json::array();
    if (operation == "PutRecord") {
      if (!document->contains("Record"))
        return SendAwsError(response, 400, "InvalidArgumentException", "Record is required");
      records.push_back((*document)["Record"]);
    } else {
      if (!document->contains("Records") || !(*document)["Records"].is_array()) {
        return SendAwsError(response, 400, "InvalidArgumentException", "Records must be a list");
      }
      records = (*document)["Records"];
    }
    if (records.empty() || records.size() > static_cast<size_t>(config.max_request_records)) {
      return SendAwsError(response, 400, "InvalidArgumentException",
                          fmt::format("Records must have between 1 and {} entries, got {}", config.max_request_records,
                                      records.size()));
    }
    std::vector<std::string> accepted;
    json responses = json::array();
    size_t failed = 0;
    uint64_t bytes = 0;
    std::string id_base = RandomHex(24);
    for (size_t i = 0; i < records.size(); ++i) {
      auto record = DecodeFirehoseRecord(records[i], "Data", limits);
      if (!record.ok()) {
        ++failed;
        responses.push_back({{"ErrorCode", "InvalidArgumentException"}, {"ErrorMessage", record.status().message()}});
        continue;
      }
      bytes += record->size();
      accepted.push_back(std::move(*record));
      responses.push_back({{"RecordId", fmt::format("{}{:04x}", id_base, i)}});
    }
    if (bytes > config.max_request_bytes) {
      return SendAwsError(response, 400, "InvalidArgumentException",
                          fmt::format("the records are over {} bytes in total", config.max_request_bytes));
    }
    stream->counters().records_failed += failed;
    std::string answer;
    if (operation == "PutRecord") {
      if (failed > 0) {
        return SendAwsError(response, 400, "InvalidArgumentException", responses[0]["ErrorMessage"].get<std::string>());
      }
      answer = json{{"RecordId", responses[0]["RecordId"]}, {"Encrypted", false}}.dump();
    } else {
      answer = json{{"FailedPutCount", failed}, {"Encrypted", false}, {"RequestResponses", responses}}.dump();
    }
    // SDKs send the same invocation id with every retry of one call: a retry is answered, not landed again.
    std::string invocation = request.get_header_value("amz-sdk-invocation-id");
    if (invocation.size() > 128) invocation.clear();
    auto outcome = stream->Accept(accepted, invocation.empty() ? "" : "firehose:" + invocation, answer);
    if (!outcome.ok())
      return SendAwsError(response, 500, "ServiceUnavailableException", workspace_.Redact(outcome.status().message()));
    if (outcome->kind == streams::AcceptOutcome::Kind::kSpoolFull) {
      response.set_header("Retry-After", "5");
      return SendAwsError(response, 503, "ServiceUnavailableException",
                          fmt::format("stream {} is over max_spool_bytes; slow down", name));
    }
    SendAwsJson(response, outcome->kind == streams::AcceptOutcome::Kind::kRemembered ? outcome->answer : answer);
  });

  http_->Post(R"(/firehose/http-endpoint/([^/]+))", [this](const httplib::Request& request, httplib::Response& response,
                                                           const httplib::ContentReader& reader) {
    std::string request_id = request.get_header_value("X-Amz-Firehose-Request-Id");
    int64_t now_ms = ToUnixMicros(workspace_.clock().Now()) / 1000;
    auto fail = [&](int status, const std::string& message) {
      response.status = status;
      response.set_content(json{{"requestId", request_id}, {"timestamp", now_ms}, {"errorMessage", message}}.dump(),
                           "application/json");
    };
    std::string name = request.matches[1];
    streams::StreamService* stream = streams_ != nullptr ? streams_->Find(name) : nullptr;
    if (stream == nullptr) {
      response.set_header("Connection", "close");
      return fail(404, fmt::format("no stream named '{}' (streams: in sluice.yaml)", name));
    }
    std::string access_key = request.get_header_value("X-Amz-Firehose-Access-Key");
    bool authorised =
        (!stream->config().token.empty() && ConstantTimeEquals(access_key, stream->config().token.Reveal())) ||
        (!options_.token.empty() && ConstantTimeEquals(access_key, options_.token.Reveal()));
    if (!authorised) {
      response.set_header("Connection", "close");
      return fail(401,
                  "missing or wrong X-Amz-Firehose-Access-Key: set the delivery stream's access key to the "
                  "stream's token");
    }
    if (request_id.empty() || request_id.size() > 128) {
      response.set_header("Connection", "close");
      return fail(400, "X-Amz-Firehose-Request-Id is missing or longer than 128 bytes");
    }
    BoundedBody body = ReadBoundedBody(reader, BodyLimit(request.path));
    if (body.over_limit || body.unreadable) {
      response.set_header("Connection", "close");
      return fail(body.over_limit ? 413 : 400,
                  body.over_limit ? "the delivery is over the size limit: set the delivery stream's buffer size to at "
                                    "most max_request_bytes"
                                  : "the request body could not be read");
    }
    auto document = ParseJsonBounded(body.text, "the request body");
    if (!document.ok() || !document->is_object() || !document->contains("records") ||
        !(*document)["records"].is_array()) {
      return fail(400, "the body is not a Firehose delivery {\"requestId\", \"timestamp\", \"records\": [{\"data\"}]}");
    }
    const config::StreamConfig& config = stream->config();
    // A delivery has no per-record answer: a bad record refuses the whole delivery, which Firehose retries
    // and then keeps in its own error output, so nothing is dropped here.
    streams::BatchLimits limits{config.max_record_size, std::numeric_limits<int64_t>::max()};
    std::vector<std::string> accepted;
    const auto& records = (*document)["records"];
    for (size_t i = 0; i < records.size(); ++i) {
      auto record = DecodeFirehoseRecord(records[i], "data", limits);
      if (!record.ok()) return fail(400, fmt::format("record {}: {}", i, record.status().message()));
      accepted.push_back(std::move(*record));
    }
    std::string answer = json{{"requestId", request_id}, {"timestamp", now_ms}}.dump();
    auto outcome = stream->Accept(accepted, "firehose-http:" + request_id, answer);
    if (!outcome.ok()) return fail(503, workspace_.Redact(outcome.status().message()));
    if (outcome->kind == streams::AcceptOutcome::Kind::kSpoolFull) {
      response.set_header("Retry-After", "5");
      return fail(503, fmt::format("stream {} is over max_spool_bytes; Firehose retries the delivery", name));
    }
    response.status = 200;
    response.set_content(outcome->kind == streams::AcceptOutcome::Kind::kRemembered ? outcome->answer : answer,
                         "application/json");
  });
}

}  // namespace sluice::server
