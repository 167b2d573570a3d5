#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "common/secret.hpp"
#include "common/status.hpp"

namespace sluice::connectors {

struct DownloadRequest {
  std::string url;
  std::vector<std::pair<std::string, Secret>> headers;
  std::chrono::milliseconds timeout{60'000};       // whole transfer, per attempt
  int retries = 3;                                 // extra attempts after connection errors, timeouts, 429 and 5xx
  std::chrono::milliseconds retry_backoff{1'000};  // first wait; doubles per attempt
  uint64_t max_bytes = 16'000'000'000;             // a longer body is refused (and removed)
  int max_redirects = 10;
  /// Validators from the previous download; the server answers 304 when they still match.
  std::string if_none_match;
  std::string if_modified_since;
};

struct DownloadResult {
  bool not_modified = false;  // 304: nothing was written
  long http_status = 0;
  std::string etag;
  std::string last_modified;
  uint64_t bytes = 0;
  std::string sha256;  // of the body as stored (after transfer decoding)
  int attempts = 0;
};

/// GETs `request.url` and streams the body into `destination` (never held in memory), hashing
/// it on the way. Follows up to max_redirects redirects, to http(s) URLs only; `headers` go only
/// to the origin (scheme, host, port) of `request.url`, never to another host a redirect names. Retries transient
/// failures with exponential backoff; the file is removed when the download fails.
Result<DownloadResult> Download(const DownloadRequest& request, const std::filesystem::path& destination);

/// The URL as it may appear in messages and records: no user:password@, query values masked.
std::string RedactUrl(const std::string& url);

}  // namespace sluice::connectors
