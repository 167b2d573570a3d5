#include "storage/s3/s3_client.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <thread>

#include "common/strings.hpp"

namespace sluice::storage::s3 {

/// Reused easy handles keep their connections alive between requests.
class CurlHandlePool {
 public:
  struct Deleter {
    void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
  };
  using Handle = std::unique_ptr<CURL, Deleter>;

  Handle Acquire() {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        Handle handle = std::move(idle_.back());
        idle_.pop_back();
        curl_easy_reset(handle.get());
        return handle;
      }
    }
    return Handle(curl_easy_init());
  }
  void Release(Handle handle) {
    std::lock_guard lock(mutex_);
    if (idle_.size() < 16) idle_.push_back(std::move(handle));
  }

 private:
  std::mutex mutex_;
  std::vector<Handle> idle_;
};

namespace {

std::once_flag g_curl_init;

struct Transfer {
  const S3Request* request;
  S3Response* response;
  CURL* handle;
  size_t read_pos = 0;
  Status sink_error;
};

size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = std::min(size * count, t->request->body.size() - t->read_pos);
  std::memcpy(buffer, t->request->body.data() + t->read_pos, n);
  t->read_pos += n;
  return n;
}

size_t OnWrite(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &status);
  if (t->request->sink && status >= 200 && status < 300) {
    t->sink_error = t->request->sink(std::string_view(data, n));
    return t->sink_error.ok() ? n : 0;
  }
  t->response->body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  if (StartsWith(line, "HTTP/")) {
    t->response->headers.clear();  // a new response (after 100-continue or a redirect)
  } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    std::string name = ToLower(line.substr(0, colon));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.remove_suffix(1);
    t->response->headers[name] = std::string(value);
  }
  return size * count;
}

bool RetryableHttp(long status, const std::string& code) {
  return status == 429 || status >= 500 || code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" ||
         code == "ServiceUnavailable";
}

std::chrono::milliseconds Backoff(const S3Options& options, int attempt) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  double cap = std::min<double>(static_cast<double>(options.retry_max_delay.count()),
                                static_cast<double>(options.retry_base_delay.count()) * std::pow(2.0, attempt));
  std::uniform_real_distribution<double> jitter(0.0, cap);  // "full jitter"
  return std::chrono::milliseconds(static_cast<int64_t>(jitter(random)));
}

}  // namespace

std::string S3Response::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::string S3Client::Name(const std::string& bucket, const std::string& key) {
  return key.empty() ? "s3://" + bucket : "s3://" + bucket + "/" + key;
}

S3Client::S3Client(S3Options options) : options_(std::move(options)), pool_(std::make_unique<CurlHandlePool>()) {}
S3Client::~S3Client() = default;

Result<std::unique_ptr<S3Client>> S3Client::Make(S3Options options) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (!options.credentials) return Status::Internal("S3 client made without credentials");
  std::string endpoint =
      options.endpoint.empty() ? fmt::format("https://s3.{}.amazonaws.com", options.region) : options.endpoint;
  std::unique_ptr<S3Client> client(new S3Client(std::move(options)));
  size_t sep = endpoint.find("://");
  if (sep == std::string::npos) {
    return Status::Invalid("s3.endpoint '{}' needs a scheme: write http://host:port or https://host", endpoint);
  }
  client->scheme_ = ToLower(endpoint.substr(0, sep));
  if (client->scheme_ != "http" && client->scheme_ != "https") {
    return Status::Invalid("s3.endpoint '{}': the scheme must be http or https", endpoint);
  }
  std::string authority = endpoint.substr(sep + 3);
  if (size_t slash = authority.find('/'); slash != std::string::npos) {
    if (authority.substr(slash) != "/") {
      return Status::Invalid("s3.endpoint '{}': a path after the host is not supported; give only scheme://host:port",
                             endpoint);
    }
    authority.resize(slash);
  }
  if (authority.empty()) return Status::Invalid("s3.endpoint '{}' names no host", endpoint);
  client->authority_ = authority;
  client->host_header_ = authority;
  std::string default_port = client->scheme_ == "https" ? ":443" : ":80";
  if (EndsWith(authority, default_port)) client->host_header_.resize(authority.size() - default_port.size());
  return client;
}

Result<S3Response> S3Client::Send(const S3Request& request) {
  Status last;
  for (int attempt = 0; attempt < std::max(1, options_.max_attempts); ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(Backoff(options_, attempt - 1));
      if (request.restart) SLUICE_TRY(request.restart());
    }
    bool retryable = false;
    auto response = SendOnce(request, &retryable);
    if (response.ok()) return response;
    last = response.status();
    if (!retryable) return last;
  }
  return Status(last.code(),
                fmt::format("{} (gave up after {} attempts)", last.message(), std::max(1, options_.max_attempts)),
                last.retryable());
}

Result<S3Response> S3Client::SendOnce(const S3Request& request, bool* retryable) {
  const std::string object = Name(request.bucket, request.key);
  const std::string what = request.what.empty() ? request.method : request.what;
  const bool path_style = options_.path_style.value_or(true);
  std::string host = path_style || request.bucket.empty() ? host_header_ : request.bucket + "." + host_header_;
  std::string authority = path_style || request.bucket.empty() ? authority_ : request.bucket + "." + authority_;
  std::string path = "/";
  if (path_style && !request.bucket.empty())
    path += UriEncode(request.bucket, false) + (request.key.empty() ? "" : "/");
  path += UriEncode(request.key, true);

  SignableRequest signable;
  signable.method = request.method;
  signable.host = host;
  signable.encoded_path = path;
  signable.query = request.query;
  signable.headers = request.headers;
  signable.payload_hash = Sha256Hex(request.body);
  auto auth = SignV4(signable, *options_.credentials, options_.region, std::chrono::system_clock::now());

  std::string url = scheme_ + "://" + authority + path;
  if (!request.query.empty()) url += "?" + EncodeQuery(request.query);

  auto handle = pool_->Acquire();
  if (!handle) return Status::Internal("curl_easy_init failed");
  CURL* curl = handle.get();
  S3Response response;
  Transfer transfer{&request, &response, curl};

  curl_slist* headers = nullptr;
  auto add_header = [&](const std::string& name, const std::string& value) {
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  };
  add_header("Host", host);
  for (const auto& [name, value] : request.headers) add_header(name, value);
  for (const auto& [name, value] : auth) add_header(name, value);
  headers = curl_slist_append(headers, "Expect:");
  headers = curl_slist_append(headers, "Content-Type:");
  headers = curl_slist_append(headers, "Accept:");

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.stall_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  if (request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnRead);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  if (rc != CURLE_OK) {
    if (!transfer.sink_error.ok()) return transfer.sink_error;  // the local side failed; not a network error
    *retryable = true;
    std::string reason = curl_easy_strerror(rc);
    // The handle's connection is in an unknown state: drop it rather than returning it to the pool.
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      return Status::Timeout("S3 {} {} timed out ({}); check that {} is reachable", what, object, reason, authority_);
    }
    return Status::Unavailable("S3 {} {} failed: {} (endpoint {}://{})", what, object, reason, scheme_, authority_);
  }
  pool_->Release(std::move(handle));

  bool ok = (response.status >= 200 && response.status < 300) ||
            std::find(request.accepted.begin(), request.accepted.end(), response.status) != request.accepted.end();
  // CompleteMultipartUpload can answer 200 with an <Error> body.
  if (ok && !(request.method == "POST" && response.body.find("<Error>") != std::string::npos)) return response;

  std::string code = XmlFirst(response.body, "Code");
  std::string message = XmlFirst(response.body, "Message");
  std::string detail = code.empty() ? fmt::format("HTTP {}", response.status)
                                    : fmt::format("HTTP {} {}: {}", response.status, code, message);
  if (RetryableHttp(response.status, code)) {
    *retryable = true;
    return Status::Unavailable("S3 {} {} failed: {}; the service is busy or failing", what, object, detail);
  }
  if (response.status == 404) return Status::NotFound("S3 {} {}: not found ({})", what, object, detail);
  if (response.status == 403 || response.status == 401) {
    return Status::IoError("S3 {} {}: access denied ({}); check the S3 credentials and the bucket's permissions", what,
                           object, detail);
  }
  if (response.status == 412) {
    return Status::Conflict("S3 {} {}: the object changed during the operation ({})", what, object, detail);
  }
  return Status::IoError("S3 {} {} failed: {}", what, object, detail);
}

std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> found;
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    size_t begin = pos + open.size();
    size_t end = xml.find(close, begin);
    if (end == std::string_view::npos) break;
    found.push_back(xml.substr(begin, end - begin));
    pos = end + close.size();
  }
  return found;
}

std::string XmlFirst(std::string_view xml, std::string_view tag) {
  auto found = XmlElements(xml, tag);
  return found.empty() ? std::string() : XmlUnescape(found.front());
}

std::string XmlUnescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out.push_back(text[i]);
      continue;
    }
    size_t semi = text.find(';', i);
    if (semi == std::string_view::npos) {
      out.push_back('&');
      continue;
    }
    std::string_view entity = text.substr(i + 1, semi - i - 1);
    if (entity == "amp")
      out.push_back('&');
    else if (entity == "lt")
      out.push_back('<');
    else if (entity == "gt")
      out.push_back('>');
    else if (entity == "quot")
      out.push_back('"');
    else if (entity == "apos")
      out.push_back('\'');
    else if (!entity.empty() && entity[0] == '#') {
      unsigned long code = entity.size() > 1 && (entity[1] == 'x' || entity[1] == 'X')
                               ? std::strtoul(std::string(entity.substr(2)).c_str(), nullptr, 16)
                               : std::strtoul(std::string(entity.substr(1)).c_str(), nullptr, 10);
      // UTF-8 encode the code point.
      if (code < 0x80) {
        out.push_back(static_cast<char>(code));
      } else if (code < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (code >> 6)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
      } else if (code < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (code >> 12)));
        out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
      } else {
        out.push_back(static_cast<char>(0xF0 | (code >> 18)));
        out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
      }
    } else {
      out.append(text.substr(i, semi - i + 1));
    }
    i = semi;
  }
  return out;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

}  // namespace sluice::storage::s3
