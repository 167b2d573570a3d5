#pragma once
// JSON answers shared by the route files of the API server (included only by server/ sources).

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <string>

#include "common/status.hpp"

namespace sluice::server {

inline void SendJson(httplib::Response& response, int status, const nlohmann::json& body) {
  response.status = status;
  response.set_content(body.dump(2) + "\n", "application/json");
}

inline void SendError(httplib::Response& response, int status, const std::string& message) {
  SendJson(response, status, nlohmann::json{{"error", message}});
}

/// Maps a Status to the HTTP status that tells the caller whose fault it was.
inline int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kConflict: return 409;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

}  // namespace sluice::server
