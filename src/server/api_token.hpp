#pragma once

#include <filesystem>

#include "common/secret.hpp"
#include "common/status.hpp"

namespace sluice::server {

/// The token `sluice serve` requires on /api/v1: server.token when it is set, else the one in
/// `<state_dir>/api_token`, generated there (random, owner-only file) on the first start and reused after.
struct ApiToken {
  Secret value;
  /// The file the token was read from or written to; empty when it came from server.token.
  std::filesystem::path file;
  bool generated = false;  // written by this start
};

Result<ApiToken> ResolveApiToken(const Secret& configured, const std::filesystem::path& state_dir);

}  // namespace sluice::server
