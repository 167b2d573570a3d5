#pragma once

#include <string>
#include <string_view>

namespace sluice::server {

/// Whether a request's Host header names this server: the listen address, or 127.0.0.1 / localhost /
/// [::1] when it listens on loopback, each with the bound port (a browser tricked by DNS rebinding
/// sends the attacker's host name). A server on a wildcard address (0.0.0.0, ::) cannot know its
/// names and accepts any Host; its token guards it.
bool HostAllowed(std::string_view host_header, const std::string& listen_host, int port);

/// Whether an Origin header names the same origin as the Host the request was sent to
/// ("http://" + Host). Browsers send Origin on cross-site requests; other clients send none.
bool SameOrigin(std::string_view origin, std::string_view host_header);

/// application/json, with or without parameters (charset).
bool IsJsonContentType(std::string_view content_type);

/// The body types a route takes: JSON everywhere; also NDJSON (application/x-ndjson) on a stream's records
/// route, and the AWS JSON protocol's application/x-amz-json-1.1 on /firehose.
bool AcceptsContentType(std::string_view path, std::string_view content_type);

/// "NAME" of /api/v1/streams/NAME/records, "" for any other path.
std::string StreamOfPath(std::string_view path);

}  // namespace sluice::server
