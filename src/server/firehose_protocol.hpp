#pragma once

#include <functional>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/secret.hpp"
#include "common/status.hpp"
#include "streams/record_batch.hpp"

// The parts of Amazon Data Firehose's wire protocols sluice speaks (docs/streams.md): base64 record data
// and the verification of SigV4-signed requests of AWS SDK clients.
namespace sluice::server {

/// Strict standard base64 (padding optional); InvalidArgument on any other byte.
Result<std::string> DecodeBase64(std::string_view text);

/// The base64 `field` ("Data" of PutRecord(Batch), "data" of an HTTP-endpoint delivery) of one Firehose record
/// as a spool record, or why not.
Result<std::string> DecodeFirehoseRecord(const nlohmann::json& record, const std::string& field,
                                         const streams::BatchLimits& limits);

/// The fields of "AWS4-HMAC-SHA256 Credential=ID/DAY/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=hex".
struct SigV4Authorization {
  std::string key_id, day, region, service;
  std::vector<std::string> signed_headers;
  std::string signature;
};

Result<SigV4Authorization> ParseSigV4Authorization(std::string_view header);

/// A request as received, for verification: header values by lower-case name ("" when absent).
struct ReceivedRequest {
  std::string method;
  std::string path;   // as sent, percent-encoded
  std::string query;  // as sent, without '?'
  std::function<std::string(const std::string&)> header;
  std::string_view body;
};

/// Recomputes the signature of `request` with `secret` and compares it in constant time. Refuses a
/// request whose x-amz-date is more than 15 minutes from `now` (a replayed capture), one signed for
/// another service than `service`, or one that does not sign its host.
Status VerifySigV4(const SigV4Authorization& authorization, const ReceivedRequest& request, const Secret& secret,
                   std::string_view service, TimePoint now);

}  // namespace sluice::server
