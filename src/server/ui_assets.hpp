#pragma once

#include <cstddef>
#include <vector>

namespace sluice::server {

/// One file of the web UI, embedded at build time (cmake/embed_assets.cmake over ui/).
struct UiAsset {
  const char* path;          // "/index.html", "/js/app.js"
  const char* content_type;  // "text/javascript; charset=utf-8"
  const unsigned char* data;
  size_t size;
};

/// Every embedded file; the web UI is served from these and nothing else.
const std::vector<UiAsset>& UiAssets();

}  // namespace sluice::server
