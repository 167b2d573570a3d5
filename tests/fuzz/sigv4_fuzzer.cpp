// SigV4 canonicalisation sees object keys and query values from outside (listings, globs, the
// config): any bytes must encode and sign without crashing, and the encodings must stay in the
// unreserved alphabet that S3 expects.

#include <cstdint>
#include <string>

#include "fuzz_input.hpp"
#include "storage/s3/sigv4.hpp"

using namespace sluice;
using namespace sluice::storage::s3;

namespace {

void CheckEncoded(const std::string& encoded, bool keep_slash) {
  for (char c : encoded) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_' || c == '.' || c == '~' || c == '%' || (keep_slash && c == '/');
    if (!unreserved) __builtin_trap();
  }
}

}  // namespace

// Input lines: method, host, key, then alternating query names and values, a header name and value.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzInput in(data, size);
  SignableRequest request;
  request.method = std::string(in.Line());
  request.host = std::string(in.Line());
  std::string key(in.Line());
  std::string encoded_key = UriEncode(key, /*keep_slash=*/true);
  CheckEncoded(encoded_key, true);
  CheckEncoded(UriEncode(key, false), false);
  request.encoded_path = "/bucket/" + encoded_key;
  for (int i = 0; i < 4 && !in.empty(); ++i) {
    std::string name(in.Line());
    std::string value(in.Line());
    CheckEncoded(UriEncode(name, false), false);
    CheckEncoded(UriEncode(value, false), false);
    request.query.emplace_back(name, value);
  }
  (void)EncodeQuery(request.query);
  std::string header_name(in.Line());
  if (!header_name.empty()) request.headers.emplace_back(header_name, std::string(in.Line()));
  request.payload_hash = std::string(kEmptyPayloadHash);
  Credentials credentials{"AKIDEXAMPLE", Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                          Secret(std::string(in.Rest()))};
  auto headers = SignV4(request, credentials, "us-east-1", TimePoint{} + std::chrono::seconds(1'700'000'000));
  (void)CanonicalRequest(request, headers);
  return 0;
}
