#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/secret.hpp"
#include "common/status.hpp"
#include "config/options.hpp"
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

/// The keys every postgres plug-in (source, target, sql: job) takes from its connection: url,
/// password, connect_timeout and sslmode.
const std::vector<config::OptionSpec>& ConnectionOptionSpecs();

/// A postgres plug-in's option table: the connection's keys first, then its own.
std::vector<config::OptionSpec> WithConnectionOptions(std::vector<config::OptionSpec> own);

/// Reads the ConnectionOptionSpecs() keys from `v`: url is required (the message says `needed_by`
/// needs it), password is a secret, sslmode one of libpq's modes.
Result<ConnectionSettings> ReadConnectionSettings(const config::Value& v, std::string_view needed_by);

}  // namespace sluice::postgres
