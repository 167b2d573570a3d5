#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/secret.hpp"
#include "common/status.hpp"
#include "config/value.hpp"
#include "connectors/postgres/pg_client.hpp"

namespace sluice::postgres {

/// Where and how to connect: what a postgres connection of sluice.yaml (merged into a source's or
/// target's options) says.
struct ConnectionSettings {
  std::string url;
  std::optional<Secret> password;
  ConnectOptions connect;
};

/// Reads url (required: the message says `needed_by` needs it), password (a secret),
/// connect_timeout (default 10s) and sslmode (one of libpq's modes) from `v`.
Result<ConnectionSettings> ReadConnectionSettings(const config::Value& v, std::string_view needed_by);

}  // namespace sluice::postgres
