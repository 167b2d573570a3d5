#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.hpp"
#include "common/secret.hpp"

// AWS Signature Version 4 for S3, written against the published algorithm and checked request by
// request against botocore's S3SigV4Auth (tests/unit/storage/s3_sigv4_test.cpp). curl 7.88's built-in
// signer mis-canonicalises (unsorted query, `?uploads` without '=', no x-amz-content-sha256).
namespace sluice::storage::s3 {

inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
/// SHA-256 of the empty string: the payload hash of GET, HEAD and DELETE.
inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct Credentials {
  std::string access_key_id;
  Secret secret_access_key;
  Secret session_token;  // empty unless temporary credentials
};

struct SignableRequest {
  std::string method;                                        // GET, PUT, POST, HEAD, DELETE
  std::string host;                                          // as sent in the Host header (port only if not default)
  std::string encoded_path;                                  // already percent-encoded, as sent, e.g. "/bucket/a%20b"
  std::vector<std::pair<std::string, std::string>> query;    // raw (unencoded) names and values; "" value = bare name
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers to sign (content-type, range, …)
  std::string payload_hash;                                  // hex SHA-256 of the body, or kUnsignedPayload
};

/// The headers to add to the request: x-amz-date, x-amz-content-sha256, x-amz-security-token (if any)
/// and Authorization. `request.headers` must not already contain those.
std::vector<std::pair<std::string, std::string>> SignV4(const SignableRequest& request, const Credentials& credentials,
                                                        std::string_view region, TimePoint now);

/// The canonical request (exposed for tests and diagnostics).
std::string CanonicalRequest(const SignableRequest& request,
                             const std::vector<std::pair<std::string, std::string>>& headers);

/// RFC 3986 percent-encoding of every byte except unreserved ones (A-Z a-z 0-9 - _ . ~); '/' is kept
/// when `keep_slash` (object key paths).
std::string UriEncode(std::string_view text, bool keep_slash);
/// "k1=v1&k2=v2" in the order given, names and values encoded.
std::string EncodeQuery(const std::vector<std::pair<std::string, std::string>>& query);

std::string Sha256Hex(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);  // raw bytes
std::string Md5Base64(std::string_view data);
std::string HexEncode(std::string_view bytes);

}  // namespace sluice::storage::s3
