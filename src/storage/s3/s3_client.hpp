#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.hpp"
#include "storage/s3/s3_options.hpp"

// S3 REST over libcurl: addressing, signing, retries and error decoding. Knows nothing about the lake.
namespace sluice::storage::s3 {

struct S3Request {
  std::string method = "GET";
  std::string bucket;
  std::string key;  // full object key ("" for bucket-level requests), unencoded
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;  // signed along with host and x-amz-*
  std::string_view body;
  /// When set, a successful response's body is handed here piece by piece instead of being collected;
  /// `restart` is called before a retry resends the request (the sink must drop what it got).
  std::function<Status(std::string_view)> sink;
  std::function<Status()> restart;
  /// For error messages: what the request does ("GET", "upload part 3 of"...).
  std::string what;
  /// Statuses (besides 2xx) that are an answer, not an error (e.g. 416 for a read at the end).
  std::vector<long> accepted = {};
};

struct S3Response {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string Header(const std::string& name) const;
};

class CurlHandlePool;

class S3Client {
 public:
  /// `options` must be complete (CompleteS3Options).
  static Result<std::unique_ptr<S3Client>> Make(S3Options options);
  ~S3Client();

  /// Sends with retries (exponential backoff with full jitter) on throttling, 5xx, timeouts and
  /// connection errors. Non-2xx answers become a Status naming the bucket, key, HTTP status and S3
  /// error code and message (never the credentials).
  Result<S3Response> Send(const S3Request& request);

  const S3Options& options() const { return options_; }
  /// "s3://bucket/key" for messages.
  static std::string Name(const std::string& bucket, const std::string& key);

 private:
  explicit S3Client(S3Options options);
  Result<S3Response> SendOnce(const S3Request& request, bool* retryable);

  S3Options options_;
  std::string scheme_;       // "http" or "https"
  std::string authority_;    // host[:port] as given
  std::string host_header_;  // host, plus port unless it is the scheme's default
  std::unique_ptr<CurlHandlePool> pool_;
};

/// Inner texts of every <tag>…</tag> in `xml` (flat scan; S3 answers are not deeply nested by tag name).
std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag);
std::string XmlFirst(std::string_view xml, std::string_view tag);  // unescaped; "" when absent
std::string XmlUnescape(std::string_view text);
std::string XmlEscape(std::string_view text);

}  // namespace sluice::storage::s3
