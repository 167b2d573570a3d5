#pragma once

#include <string>
#include <string_view>

namespace sluice {

/// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);
/// Lowercase hex HMAC-SHA256 of `data` under `key`.
std::string HmacSha256Hex(std::string_view key, std::string_view data);
/// Raw 32-byte HMAC-SHA256 (for key derivation chains such as SigV4).
std::string HmacSha256Raw(std::string_view key, std::string_view data);
std::string HexEncode(std::string_view bytes);
/// Compares two credentials in time independent of where they differ (both are hashed first, so
/// not even their lengths leak through timing).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace sluice
