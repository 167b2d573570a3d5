#include "connectors/sources/http/http_download.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "common/hash.hpp"
#include "common/strings.hpp"

namespace sluice::connectors {
namespace fs = std::filesystem;
namespace {

struct CurlEasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct CurlListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
struct DigestDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

/// Where the body of one attempt goes: the file and a running SHA-256.
struct BodySink {
  std::FILE* file = nullptr;
  EVP_MD_CTX* digest = nullptr;
  uint64_t max_bytes = 0;
  uint64_t bytes = 0;
  bool write_failed = false;
  bool too_large = false;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  size_t n = size * count;
  if (sink->bytes + n > sink->max_bytes) {  // a server without Content-Length passes MAXFILESIZE
    sink->too_large = true;
    return 0;
  }
  if (std::fwrite(data, 1, n, sink->file) != n) {
    sink->write_failed = true;
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
  EVP_DigestUpdate(sink->digest, data, n);
  sink->bytes += n;
  return n;
}

struct ResponseHeaders {
  std::string etag, last_modified, location;
};

size_t ReadHeader(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<ResponseHeaders*>(user);
  std::string_view line(data, size * count);
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name = ToLower(line.substr(0, colon));
    std::string value = Trim(line.substr(colon + 1));
    if (name == "etag") headers->etag = value;
    if (name == "last-modified") headers->last_modified = value;
    if (name == "location") headers->location = value;
  } else if (StartsWith(line, "HTTP/")) {
    *headers = {};  // a new response (after a redirect): earlier validators do not apply
  }
  return size * count;
}

bool IsTransient(CURLcode code) {
  return code == CURLE_COULDNT_CONNECT || code == CURLE_OPERATION_TIMEDOUT || code == CURLE_RECV_ERROR ||
         code == CURLE_SEND_ERROR || code == CURLE_GOT_NOTHING || code == CURLE_PARTIAL_FILE ||
         code == CURLE_COULDNT_RESOLVE_HOST;
}

bool IsTransientStatus(long status) { return status == 408 || status == 429 || status >= 500; }

std::string StatusAdvice(long status) {
  if (status == 401 || status == 403) return "check the credentials in the source's headers: option";
  if (status == 404 || status == 410) return "check the source's url: option (the server has no such file)";
  if (status >= 500) return "the server failed; try again later or raise the source's retries: option";
  return "check the source's url: and headers: options";
}

struct Attempt {
  CURLcode code = CURLE_OK;
  std::string curl_error;
  long status = 0;
  ResponseHeaders headers;
  uint64_t bytes = 0;
  std::string sha256;
  bool write_failed = false;
  bool too_large = false;
  std::string redirect_url;  // the Location of a 3xx answer, resolved against the request's URL
};

struct CurlUrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

/// "scheme://host:port" in lower case, "" when `url` does not parse. Secret headers are sent only
/// to the origin of the configured URL.
std::string Origin(const std::string& url) {
  std::unique_ptr<CURLU, CurlUrlDeleter> parsed(curl_url());
  if (!parsed || curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return "";
  std::string origin;
  for (CURLUPart part : {CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT}) {
    char* text = nullptr;
    if (curl_url_get(parsed.get(), part, &text, CURLU_DEFAULT_PORT) != CURLUE_OK) return "";
    origin += ToLower(text);
    origin += part == CURLUPART_SCHEME ? "://" : part == CURLUPART_HOST ? ":" : "";
    curl_free(text);
  }
  return origin;
}

/// The user and password written into `url` (user:password@host), or empty strings.
std::pair<std::string, std::string> UrlCredentials(const std::string& url) {
  std::unique_ptr<CURLU, CurlUrlDeleter> parsed(curl_url());
  std::pair<std::string, std::string> out;
  if (!parsed || curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return out;
  for (auto [part, target] : {std::pair{CURLUPART_USER, &out.first}, std::pair{CURLUPART_PASSWORD, &out.second}}) {
    char* text = nullptr;
    if (curl_url_get(parsed.get(), part, &text, CURLU_URLDECODE) == CURLUE_OK && text != nullptr) *target = text;
    curl_free(text);
  }
  return out;
}

bool IsRedirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/// One GET of `url` (redirects not followed), the body into `destination` (truncated first).
Result<Attempt> TransferOnce(const DownloadRequest& request, const std::string& url, bool send_headers,
                             const fs::path& destination) {
  std::unique_ptr<CURL, CurlEasyDeleter> curl(curl_easy_init());
  if (!curl) return Status::Internal("cannot create an HTTP client handle");
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(destination.c_str(), "wb"));
  if (!file) return Status::IoError("cannot write the download to '{}'", destination.string());
  std::unique_ptr<EVP_MD_CTX, DigestDeleter> digest(EVP_MD_CTX_new());
  EVP_DigestInit_ex(digest.get(), EVP_sha256(), nullptr);

  std::unique_ptr<curl_slist, CurlListDeleter> header_list;
  auto add_header = [&](const std::string& line) {
    header_list.reset(curl_slist_append(header_list.release(), line.c_str()));
  };
  if (send_headers) {
    for (const auto& [name, value] : request.headers) add_header(name + ": " + value.Reveal());
  }
  if (!request.if_none_match.empty()) add_header("If-None-Match: " + request.if_none_match);
  if (!request.if_modified_since.empty()) add_header("If-Modified-Since: " + request.if_modified_since);

  BodySink sink{file.get(), digest.get(), request.max_bytes};
  Attempt attempt;
  char error[CURL_ERROR_SIZE] = {0};
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  // Redirects are followed by TryOnce, which checks each target (curl would carry the headers
  // to any host, and follow to any protocol it was built with).
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(std::min<uint64_t>(request.max_bytes, std::numeric_limits<int64_t>::max())));
  std::pair<std::string, std::string> credentials;
  if (send_headers && url != request.url) {
    // Within the origin, credentials written into the configured URL still apply.
    credentials = UrlCredentials(request.url);
    if (!credentials.first.empty()) {
      curl_easy_setopt(h, CURLOPT_USERNAME, credentials.first.c_str());
      curl_easy_setopt(h, CURLOPT_PASSWORD, credentials.second.c_str());
    }
  }
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // transfer compression is undone on the way in
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<int64_t>(request.timeout.count(), 30'000)));
  curl_easy_setopt(h, CURLOPT_USERAGENT, "sluice");
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, ReadHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &attempt.headers);

  attempt.code = curl_easy_perform(h);
  attempt.curl_error = error[0] != 0 ? error : curl_easy_strerror(attempt.code);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &attempt.status);
  attempt.bytes = sink.bytes;
  attempt.write_failed = sink.write_failed;
  attempt.too_large = sink.too_large || attempt.code == CURLE_FILESIZE_EXCEEDED;
  if (char* location = nullptr; curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location) {
    attempt.redirect_url = location;
  } else if (IsRedirect(attempt.status) && !attempt.headers.location.empty()) {
    attempt.redirect_url = attempt.headers.location;  // a target curl would not resolve (another protocol)
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  EVP_DigestFinal_ex(digest.get(), md, &md_len);
  attempt.sha256 = HexEncode(std::string_view(reinterpret_cast<const char*>(md), md_len));
  if (std::fflush(file.get()) != 0) attempt.write_failed = true;
  return attempt;
}

/// One attempt: the GET and the redirects it leads to. A redirect must stay on http(s); the
/// configured headers (credentials) go only to the configured URL's origin.
Result<Attempt> TryOnce(const DownloadRequest& request, const fs::path& destination) {
  const std::string origin = Origin(request.url);
  std::string url = request.url;
  bool send_headers = true;
  for (int redirects = 0;; ++redirects) {
    SLUICE_ASSIGN_OR_RETURN(Attempt attempt, TransferOnce(request, url, send_headers, destination));
    if (attempt.code != CURLE_OK || !IsRedirect(attempt.status) || attempt.redirect_url.empty()) return attempt;
    const std::string& next = attempt.redirect_url;
    std::string scheme = ToLower(next.substr(0, next.find(':')));
    if (scheme != "http" && scheme != "https") {
      return Status::Invalid(
          "GET {} was redirected (HTTP {}) to {}, which is not an http:// or https:// URL; "
          "refusing to follow it. Point the source's url: at the file's final location",
          RedactUrl(request.url), attempt.status, RedactUrl(next));
    }
    if (redirects >= request.max_redirects) {
      return Status::Invalid(
          "GET {} was redirected more than {} times (last to {}); point the source's url: at the "
          "file's final location",
          RedactUrl(request.url), request.max_redirects, RedactUrl(next));
    }
    if (Origin(next) != origin) send_headers = false;  // stays off for the rest of the chain
    url = next;
  }
}

}  // namespace

std::string RedactUrl(const std::string& url) {
  std::string out = url;
  auto scheme = out.find("://");
  size_t host_start = scheme == std::string::npos ? 0 : scheme + 3;
  auto path_start = out.find_first_of("/?#", host_start);
  auto at = out.rfind('@', path_start == std::string::npos ? std::string::npos : path_start);
  if (at != std::string::npos && at >= host_start) out.erase(host_start, at + 1 - host_start);
  auto query = out.find('?');
  if (query == std::string::npos) return out;
  auto fragment = out.find('#', query);
  std::string tail = fragment == std::string::npos ? "" : out.substr(fragment);
  std::vector<std::string> masked;
  for (const auto& pair :
       Split(out.substr(query + 1, fragment == std::string::npos ? std::string::npos : fragment - query - 1), '&')) {
    auto eq = pair.find('=');
    masked.push_back(eq == std::string::npos ? pair : pair.substr(0, eq + 1) + "***");
  }
  return out.substr(0, query + 1) + Join(masked, "&") + tail;
}

Result<DownloadResult> Download(const DownloadRequest& request, const fs::path& destination) {
  GlobalInitOnce();
  const std::string shown = RedactUrl(request.url);
  auto backoff = request.retry_backoff;
  for (int attempt_number = 1;; ++attempt_number) {
    auto attempt = TryOnce(request, destination);
    if (!attempt.ok()) {
      std::error_code ec;
      fs::remove(destination, ec);
      return attempt.status();
    }
    bool last = attempt_number > request.retries;
    if (attempt->too_large) {
      std::error_code ec;
      fs::remove(destination, ec);
      return Status::DataError(
          "GET {} sends more than {}; refusing the download. If the file is genuine, raise the "
          "source's max_size: option",
          shown, HumanBytes(request.max_bytes));
    }
    if (attempt->write_failed) {
      std::error_code ec;
      fs::remove(destination, ec);
      return Status::IoError("downloading {}: cannot write to '{}' (disk full?)", shown, destination.string());
    }
    if (attempt->code != CURLE_OK) {
      if (IsTransient(attempt->code) && !last) {
        std::this_thread::sleep_for(backoff);
        backoff *= 2;
        continue;
      }
      std::error_code ec;
      fs::remove(destination, ec);
      return Status::Unavailable(
          "GET {} failed after {} attempt{}: {}; check that the server is reachable, or raise "
          "the source's timeout:/retries: options",
          shown, attempt_number, attempt_number == 1 ? "" : "s", attempt->curl_error);
    }
    if (attempt->status == 304) {
      std::error_code ec;
      fs::remove(destination, ec);
      DownloadResult result;
      result.not_modified = true;
      result.http_status = 304;
      result.etag = attempt->headers.etag;
      result.last_modified = attempt->headers.last_modified;
      result.attempts = attempt_number;
      return result;
    }
    if (attempt->status < 200 || attempt->status >= 300) {
      if (IsTransientStatus(attempt->status) && !last) {
        std::this_thread::sleep_for(backoff);
        backoff *= 2;
        continue;
      }
      std::error_code ec;
      fs::remove(destination, ec);
      return Status::Unavailable("GET {} failed: HTTP {} (after {} attempt{}); {}", shown, attempt->status,
                                 attempt_number, attempt_number == 1 ? "" : "s", StatusAdvice(attempt->status));
    }
    DownloadResult result;
    result.http_status = attempt->status;
    result.etag = attempt->headers.etag;
    result.last_modified = attempt->headers.last_modified;
    result.bytes = attempt->bytes;
    result.sha256 = attempt->sha256;
    result.attempts = attempt_number;
    return result;
  }
}

}  // namespace sluice::connectors
