// The web UI (docs/ui.md): the files of ui/, embedded at build time, served at the root of
// server.listen. Exactly the embedded set is served, nothing from disk; the files hold no project
// data, so they need no token — the page asks for it and sends it as a bearer header to /api/v1.
#include <httplib.h>

#include <string>
#include <string_view>

#include "server/api_server.hpp"
#include "server/ui_assets.hpp"

namespace sluice::server {
namespace {

/// The page runs only its own scripts and styles (no inline code, no eval), talks only to its own
/// origin, and may not be framed (clickjacking).
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

void SetPageHeaders(httplib::Response& response) {
  response.set_header("Content-Security-Policy", kContentSecurityPolicy);
  response.set_header("X-Frame-Options", "DENY");
  response.set_header("Referrer-Policy", "no-referrer");
  response.set_header("Cross-Origin-Opener-Policy", "same-origin");
  response.set_header("Cross-Origin-Resource-Policy", "same-origin");
  // A new binary may bring a new UI: the browser checks each time (the files are small).
  response.set_header("Cache-Control", "no-cache");
}

/// httplib takes a route as a regular expression: the path, matched literally.
std::string LiteralPattern(const std::string& path) {
  std::string pattern;
  for (char c : path) {
    if (std::string_view(".^$|()[]{}*+?\\").find(c) != std::string_view::npos) pattern += '\\';
    pattern += c;
  }
  return pattern;
}

}  // namespace

void ApiServer::UiAssetRoutes() {
  for (const UiAsset& asset : UiAssets()) {
    auto serve = [&asset](const httplib::Request&, httplib::Response& response) {
      SetPageHeaders(response);
      response.set_content(reinterpret_cast<const char*>(asset.data), asset.size, asset.content_type);
    };
    std::string path = asset.path;
    http_->Get(LiteralPattern(path), serve);
    if (path == "/index.html") http_->Get("/", serve);
  }
  // Every answer, the API's JSON included, is to be taken as the type it declares.
  http_->set_post_routing_handler([](const httplib::Request&, httplib::Response& response) {
    response.set_header("X-Content-Type-Options", "nosniff");
  });
}

}  // namespace sluice::server
