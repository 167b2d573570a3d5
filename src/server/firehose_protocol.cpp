#include "server/firehose_protocol.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "common/hash.hpp"
#include "common/strings.hpp"
#include "storage/s3/sigv4.hpp"

namespace sluice::server {

namespace {

constexpr auto kMaxClockSkew = std::chrono::minutes(15);

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::optional<TimePoint> ParseAmzDate(const std::string& text) {
  // 20260101T120000Z
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  std::string iso = fmt::format("{}-{}-{}T{}:{}:{}Z", text.substr(0, 4), text.substr(4, 2), text.substr(6, 2),
                                text.substr(9, 2), text.substr(11, 2), text.substr(13, 2));
  return ParseTimestampUtc(iso);
}

/// "a=1&b=2" → [(a, 1), (b, 2)] decoded, for the signer (it encodes them again in canonical form).
std::vector<std::pair<std::string, std::string>> SplitQuery(const std::string& query) {
  std::vector<std::pair<std::string, std::string>> out;
  auto decode = [](std::string_view text) {
    std::string decoded;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
          std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
        decoded.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
        i += 2;
      } else {
        decoded.push_back(text[i] == '+' ? ' ' : text[i]);
      }
    }
    return decoded;
  };
  for (const auto& part : Split(query, '&')) {
    if (part.empty()) continue;
    size_t eq = part.find('=');
    out.emplace_back(decode(part.substr(0, eq)), eq == std::string::npos ? "" : decode(part.substr(eq + 1)));
  }
  return out;
}

}  // namespace

Result<std::string> DecodeBase64(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int value = Base64Value(c);
    if (value < 0) return Status::Invalid("the data is not base64 (a byte outside A-Z a-z 0-9 + /)");
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  if (bits >= 6) return Status::Invalid("the data is not base64 (a truncated last group)");
  return out;
}

Result<std::string> DecodeFirehoseRecord(const nlohmann::json& record, const std::string& field,
                                         const streams::BatchLimits& limits) {
  if (!record.is_object() || !record.contains(field) || !record[field].is_string()) {
    return Status::Invalid("the record has no base64 {} field", field);
  }
  const auto& text = record[field].get_ref<const std::string&>();
  if (text.size() / 4 * 3 > limits.max_record_size + 3) {
    return Status::Invalid("the record is over max_record_size ({} bytes)", limits.max_record_size);
  }
  SLUICE_ASSIGN_OR_RETURN(auto data, DecodeBase64(text));
  return streams::CheckRecord(data, limits);
}

Result<SigV4Authorization> ParseSigV4Authorization(std::string_view header) {
  constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256 ";
  if (!StartsWith(header, kAlgorithm)) {
    return Status::Invalid(
        "the request is not signed with AWS Signature Version 4 (Authorization: AWS4-HMAC-SHA256 …)");
  }
  SigV4Authorization out;
  for (const auto& raw : Split(header.substr(kAlgorithm.size()), ',')) {
    std::string part = Trim(raw);
    size_t eq = part.find('=');
    if (eq == std::string::npos) continue;
    std::string name = part.substr(0, eq), value = part.substr(eq + 1);
    if (name == "Credential") {
      auto scope = Split(value, '/');
      if (scope.size() != 5 || scope[4] != "aws4_request") return Status::Invalid("the Credential scope is malformed");
      out.key_id = scope[0];
      out.day = scope[1];
      out.region = scope[2];
      out.service = scope[3];
    } else if (name == "SignedHeaders") {
      out.signed_headers = Split(value, ';');
    } else if (name == "Signature") {
      out.signature = value;
    }
  }
  if (out.key_id.empty() || out.signed_headers.empty() || out.signature.empty()) {
    return Status::Invalid("the Authorization header lacks Credential, SignedHeaders or Signature");
  }
  return out;
}

Status VerifySigV4(const SigV4Authorization& authorization, const ReceivedRequest& request, const Secret& secret,
                   std::string_view service, TimePoint now) {
  if (authorization.service != service) {
    return Status::Invalid("the request is signed for service '{}', not '{}'", authorization.service, service);
  }
  if (std::find(authorization.signed_headers.begin(), authorization.signed_headers.end(), "host") ==
      authorization.signed_headers.end()) {
    return Status::Invalid("the signature does not cover the host header");
  }
  std::string amz_date = request.header("x-amz-date");
  auto signed_at = ParseAmzDate(amz_date);
  if (!signed_at || amz_date.substr(0, 8) != authorization.day) {
    return Status::Invalid("x-amz-date '{}' is missing or does not match the credential's day", amz_date);
  }
  if (*signed_at > now + kMaxClockSkew || *signed_at < now - kMaxClockSkew) {
    return Status::Invalid(
        "the signature's time {} is more than 15 minutes from the server's; check the client's clock", amz_date);
  }
  storage::s3::SignableRequest canonical;
  canonical.method = request.method;
  canonical.encoded_path = request.path;
  canonical.query = SplitQuery(request.query);
  std::string payload_hash = request.header("x-amz-content-sha256");
  canonical.payload_hash = payload_hash.empty() || payload_hash == storage::s3::kUnsignedPayload
                               ? storage::s3::Sha256Hex(request.body)
                               : payload_hash;
  if (!payload_hash.empty() && payload_hash != storage::s3::kUnsignedPayload &&
      payload_hash != storage::s3::Sha256Hex(request.body)) {
    return Status::Invalid("x-amz-content-sha256 does not match the body");
  }
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& name : authorization.signed_headers) headers.emplace_back(name, request.header(name));
  std::string canonical_request = storage::s3::CanonicalRequest(canonical, headers);
  std::string scope =
      fmt::format("{}/{}/{}/aws4_request", authorization.day, authorization.region, authorization.service);
  std::string string_to_sign =
      fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", amz_date, scope, storage::s3::Sha256Hex(canonical_request));
  std::string key = storage::s3::HmacSha256("AWS4" + secret.Reveal(), authorization.day);
  key = storage::s3::HmacSha256(key, authorization.region);
  key = storage::s3::HmacSha256(key, authorization.service);
  key = storage::s3::HmacSha256(key, "aws4_request");
  std::string expected = storage::s3::HexEncode(storage::s3::HmacSha256(key, string_to_sign));
  if (!ConstantTimeEquals(expected, authorization.signature)) {
    return Status::Invalid(
        "the request signature we calculated does not match the signature you provided; check "
        "the secret access key of '{}'",
        authorization.key_id);
  }
  return Status::OK();
}

}  // namespace sluice::server
