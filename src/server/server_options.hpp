#pragma once

#include <string>

#include "common/secret.hpp"
#include "common/status.hpp"
#include "config/project.hpp"

namespace sluice::server {

/// The `server:` block of sluice.yaml (defaults: config::ServerKeys()).
struct ServerOptions {
  std::string host;
  int port = 0;
  /// Empty = no authentication, which is only allowed on a loopback address.
  Secret token;
  /// Runs executing at once over all pipelines (one per pipeline always).
  int64_t max_concurrent_runs = 0;
};

/// Reads `server.listen` (HOST:PORT, default 127.0.0.1:8080), `server.token` and `server.max_concurrent_runs`; refuses
/// a non-loopback address without a token, since the API can run pipelines and read every table.
Result<ServerOptions> ServerOptionsFromConfig(const config::ProjectConfig& project);

bool IsLoopbackHost(const std::string& host);

}  // namespace sluice::server
