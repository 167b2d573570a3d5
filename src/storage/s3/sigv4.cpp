#include "storage/s3/sigv4.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <ctime>

#include "common/strings.hpp"

namespace sluice::storage::s3 {
namespace {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

std::string Trim(std::string_view text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && (text[begin] == ' ' || text[begin] == '\t')) ++begin;
  while (end > begin && (text[end - 1] == ' ' || text[end - 1] == '\t')) --end;
  // Sequential spaces inside a value collapse to one, as the algorithm requires.
  std::string out;
  out.reserve(end - begin);
  bool space = false;
  for (size_t i = begin; i < end; ++i) {
    if (text[i] == ' ') {
      if (!space) out.push_back(' ');
      space = true;
    } else {
      out.push_back(text[i]);
      space = false;
    }
  }
  return out;
}

std::string FormatUtc(TimePoint now, const char* format) {
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  size_t n = std::strftime(buffer, sizeof(buffer), format, &tm);
  return std::string(buffer, n);
}

}  // namespace

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string Md5Base64(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_md5(), nullptr);
  unsigned char encoded[64];
  int n = EVP_EncodeBlock(encoded, digest, static_cast<int>(length));
  return std::string(reinterpret_cast<const char*>(encoded), static_cast<size_t>(n));
}

std::string UriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3 / 2);
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_' || c == '.' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 15]);
    }
  }
  return out;
}

std::string EncodeQuery(const HeaderList& query) {
  std::string out;
  for (const auto& [name, value] : query) {
    if (!out.empty()) out.push_back('&');
    out += UriEncode(name, false);
    out.push_back('=');
    out += UriEncode(value, false);
  }
  return out;
}

std::string CanonicalRequest(const SignableRequest& request, const HeaderList& headers) {
  HeaderList query;
  query.reserve(request.query.size());
  for (const auto& [name, value] : request.query) query.emplace_back(UriEncode(name, false), UriEncode(value, false));
  std::sort(query.begin(), query.end());
  std::string canonical_query;
  for (const auto& [name, value] : query) {
    if (!canonical_query.empty()) canonical_query.push_back('&');
    canonical_query += name + "=" + value;
  }

  HeaderList canonical_headers;
  for (const auto& [name, value] : headers) canonical_headers.emplace_back(ToLower(name), Trim(value));
  std::sort(canonical_headers.begin(), canonical_headers.end());
  std::string header_block;
  std::string signed_names;
  for (const auto& [name, value] : canonical_headers) {
    header_block += name + ":" + value + "\n";
    if (!signed_names.empty()) signed_names.push_back(';');
    signed_names += name;
  }
  return fmt::format("{}\n{}\n{}\n{}\n{}\n{}", request.method,
                     request.encoded_path.empty() ? "/" : request.encoded_path, canonical_query, header_block,
                     signed_names, request.payload_hash);
}

HeaderList SignV4(const SignableRequest& request, const Credentials& credentials, std::string_view region,
                  TimePoint now) {
  const std::string amz_date = FormatUtc(now, "%Y%m%dT%H%M%SZ");
  const std::string day = amz_date.substr(0, 8);
  HeaderList added = {{"x-amz-date", amz_date}, {"x-amz-content-sha256", request.payload_hash}};
  if (!credentials.session_token.empty())
    added.emplace_back("x-amz-security-token", credentials.session_token.Reveal());

  HeaderList signed_headers = request.headers;
  signed_headers.emplace_back("host", request.host);
  signed_headers.insert(signed_headers.end(), added.begin(), added.end());
  std::string canonical = CanonicalRequest(request, signed_headers);

  std::vector<std::string> names;
  for (const auto& header : signed_headers) names.push_back(ToLower(header.first));
  std::sort(names.begin(), names.end());

  const std::string scope = fmt::format("{}/{}/s3/aws4_request", day, region);
  const std::string string_to_sign = fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", amz_date, scope, Sha256Hex(canonical));
  std::string key = HmacSha256("AWS4" + credentials.secret_access_key.Reveal(), day);
  key = HmacSha256(key, region);
  key = HmacSha256(key, "s3");
  key = HmacSha256(key, "aws4_request");
  const std::string signature = HexEncode(HmacSha256(key, string_to_sign));
  added.emplace_back("Authorization", fmt::format("AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}",
                                                  credentials.access_key_id, scope, Join(names, ";"), signature));
  return added;
}

}  // namespace sluice::storage::s3
