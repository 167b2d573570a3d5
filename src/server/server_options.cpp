#include "server/server_options.hpp"

#include "common/strings.hpp"
#include "config/option_reader.hpp"

namespace sluice::server {

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || StartsWith(host, "127.");
}

Result<ServerOptions> ServerOptionsFromConfig(const config::ProjectConfig& project) {
  ServerOptions options;
  const config::Value& server = project.server;
  SLUICE_TRY(project.CheckResolved("server", "the API server (server: in sluice.yaml)"));
  if (!server.IsNull() && !server.IsMap())
    return Status::Invalid("{}: server: must be a map (listen:, token:, max_concurrent_runs:)",
                           server.location().ToString());
  // Its keys were checked against config::ServerKeys() when sluice.yaml was read; the defaults are theirs.
  config::OptionReader keys(server, config::ServerKeys());
  SLUICE_ASSIGN_OR_RETURN(std::string listen, keys.String("listen"));
  const config::Value* listen_value = keys.Find("listen");
  std::string where = listen_value ? listen_value->location().ToString() : server.location().ToString();
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
    return Status::Invalid("{}: server.listen '{}' must be HOST:PORT, e.g. 127.0.0.1:8080", where, listen);
  }
  options.host = listen.substr(0, colon);
  if (options.host.size() > 2 && options.host.front() == '[' && options.host.back() == ']') {
    options.host = options.host.substr(1, options.host.size() - 2);
  }
  try {
    size_t used = 0;
    options.port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || options.port < 0 || options.port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    return Status::Invalid("{}: server.listen '{}': the port must be a number from 0 to 65535", where, listen);
  }
  if (const config::Value* token = keys.Find("token"); token && !token->IsNull()) {
    SLUICE_ASSIGN_OR_RETURN(options.token, token->AsSecret());
  }
  SLUICE_ASSIGN_OR_RETURN(options.max_concurrent_runs, keys.Int("max_concurrent_runs"));
  if (options.max_concurrent_runs < 1) {
    return Status::Invalid("{}: server.max_concurrent_runs must be at least 1", server.location().ToString());
  }
  if (options.token.empty() && !IsLoopbackHost(options.host)) {
    return Status::Invalid(
        "{}: server.listen '{}' is not a loopback address and server.token is not set; refusing to serve the API "
        "unauthenticated — set server.token (e.g. token: ${{env:SLUICE_TOKEN}}) or listen on 127.0.0.1",
        where, listen);
  }
  return options;
}

}  // namespace sluice::server
