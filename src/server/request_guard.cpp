#include "server/request_guard.hpp"

#include "common/strings.hpp"
#include "server/server_options.hpp"

namespace sluice::server {
namespace {

/// "host:port" split; the port is -1 when absent. "[::1]:80" gives "::1".
std::pair<std::string, int> SplitHostPort(std::string_view text) {
  std::string host(text);
  int port = -1;
  size_t colon = host.rfind(':');
  size_t bracket = host.rfind(']');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    std::string digits = host.substr(colon + 1);
    host.resize(colon);
    if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos) {
      return {"", -2};
    }
    port = std::stoi(digits);
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return {ToLower(host), port};
}

}  // namespace

bool HostAllowed(std::string_view host_header, const std::string& listen_host, int port) {
  if (listen_host == "0.0.0.0" || listen_host == "::" || listen_host.empty()) return true;
  auto [host, host_port] = SplitHostPort(Trim(std::string(host_header)));
  if (host.empty()) return false;
  if (host_port != port && !(host_port == -1 && port == 80)) return false;
  if (host == ToLower(listen_host)) return true;
  return IsLoopbackHost(listen_host) && (host == "127.0.0.1" || host == "localhost" || host == "::1");
}

bool SameOrigin(std::string_view origin, std::string_view host_header) {
  return ToLower(Trim(std::string(origin))) == "http://" + ToLower(Trim(std::string(host_header)));
}

bool IsJsonContentType(std::string_view content_type) {
  std::string type = ToLower(Trim(std::string(content_type.substr(0, content_type.find(';')))));
  return type == "application/json";
}

bool AcceptsContentType(std::string_view path, std::string_view content_type) {
  if (IsJsonContentType(content_type)) return true;
  std::string type = ToLower(Trim(std::string(content_type.substr(0, content_type.find(';')))));
  if (type == "application/x-ndjson") return !StreamOfPath(path).empty();
  if (type == "application/x-amz-json-1.1") return path == "/firehose" || path == "/firehose/";
  return false;
}

std::string StreamOfPath(std::string_view path) {
  constexpr std::string_view kPrefix = "/api/v1/streams/";
  constexpr std::string_view kSuffix = "/records";
  if (!StartsWith(path, kPrefix) || !EndsWith(path, kSuffix) || path.size() <= kPrefix.size() + kSuffix.size())
    return "";
  std::string_view name = path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
  return name.find('/') == std::string_view::npos ? std::string(name) : "";
}

}  // namespace sluice::server
