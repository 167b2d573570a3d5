#pragma once
// Reads a request body through httplib's ContentReader (which has already undone Content-Encoding: gzip),
// stopping at `limit` bytes: a small compressed body cannot grow past the limit in memory.

#include <httplib.h>

#include <cstdint>
#include <string>

namespace sluice::server {

struct BoundedBody {
  std::string text;
  bool over_limit = false;  // the decompressed body passed `limit`
  bool unreadable = false;  // the connection failed or the compressed stream was corrupt
};

inline BoundedBody ReadBoundedBody(const httplib::ContentReader& reader, uint64_t limit) {
  BoundedBody body;
  bool read = reader([&](const char* data, size_t length) {
    if (body.text.size() + length > limit) {
      body.over_limit = true;
      return false;
    }
    body.text.append(data, length);
    return true;
  });
  if (!read && !body.over_limit) body.unreadable = true;
  return body;
}

}  // namespace sluice::server
