#include "connectors/postgres/pg_connection_settings.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "common/strings.hpp"
#include "config/option_reader.hpp"

namespace sluice::postgres {

const std::vector<config::OptionSpec>& ConnectionOptionSpecs() {
  using config::OptionType;
  static const std::vector<config::OptionSpec> kSpecs = {
      {"url", OptionType::kString, "", true, false, "postgresql://user@host:port/database (no password in it)"},
      {"password", OptionType::kString, "", false, true, "the user's password (omit when the server trusts the user)"},
      {"connect_timeout", OptionType::kDuration, "10s", false, false, "give up connecting after this long"},
      {"sslmode", OptionType::kString, "", false, false,
       "disable | allow | prefer | require | verify-ca | verify-full; omitted = what the URL says (libpq's default is "
       "prefer)"},
  };
  return kSpecs;
}

std::vector<config::OptionSpec> WithConnectionOptions(std::vector<config::OptionSpec> own) {
  std::vector<config::OptionSpec> all = ConnectionOptionSpecs();
  all.insert(all.end(), std::make_move_iterator(own.begin()), std::make_move_iterator(own.end()));
  return all;
}

Result<ConnectionSettings> ReadConnectionSettings(const config::Value& v, std::string_view needed_by) {
  ConnectionSettings settings;
  const config::Value* url = v.Find("url");
  if (url == nullptr || url->IsNull()) {
    return Status::Invalid("{}: {} needs url: postgresql://user@host:port/database (on the connection in sluice.yaml)",
                           v.location().ToString(), needed_by);
  }
  SLUICE_ASSIGN_OR_RETURN(settings.url, url->AsString());
  if (const auto* password = v.Find("password"); password != nullptr && !password->IsNull()) {
    SLUICE_ASSIGN_OR_RETURN(auto secret, password->AsSecret());
    settings.password = std::move(secret);
  }
  config::OptionReader options(v, ConnectionOptionSpecs());
  SLUICE_ASSIGN_OR_RETURN(auto timeout, options.Duration("connect_timeout"));
  settings.connect.connect_timeout_seconds =
      std::max<int>(1, static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()));
  SLUICE_ASSIGN_OR_RETURN(settings.connect.sslmode, options.String("sslmode"));
  static const std::vector<std::string> kSslModes = {"disable", "allow",     "prefer",
                                                     "require", "verify-ca", "verify-full"};
  if (!settings.connect.sslmode.empty() &&
      std::find(kSslModes.begin(), kSslModes.end(), settings.connect.sslmode) == kSslModes.end()) {
    return Status::Invalid("{}: sslmode '{}' is not one of {}", v.Find("sslmode")->location().ToString(),
                           settings.connect.sslmode, Join(kSslModes, ", "));
  }
  return settings;
}

}  // namespace sluice::postgres
