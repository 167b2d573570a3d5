#include "connectors/postgres/pg_connection_settings.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "common/strings.hpp"

namespace sluice::postgres {

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
  SLUICE_ASSIGN_OR_RETURN(auto timeout, v.GetDuration("connect_timeout", std::chrono::seconds(10)));
  settings.connect.connect_timeout_seconds =
      std::max<int>(1, static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()));
  SLUICE_ASSIGN_OR_RETURN(settings.connect.sslmode, v.GetString("sslmode", ""));
  static const std::vector<std::string> kSslModes = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"};
  if (!settings.connect.sslmode.empty() &&
      std::find(kSslModes.begin(), kSslModes.end(), settings.connect.sslmode) == kSslModes.end()) {
    return Status::Invalid("{}: sslmode '{}' is not one of {}", v.Find("sslmode")->location().ToString(),
                           settings.connect.sslmode, Join(kSslModes, ", "));
  }
  return settings;
}

}  // namespace sluice::postgres
