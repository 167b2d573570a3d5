#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "common/status.hpp"

namespace sluice::connectors {

/// Bounds on what one archive may unpack to: a zip bomb (a small file that expands 1000:1, or to
/// millions of members) is refused before it fills the disk.
struct ZipLimits {
  uint64_t max_unpacked_bytes = 16'000'000'000;  // all members together (16GB)
  uint64_t max_entries = 10'000;                 // members of any kind, folders included
  uint64_t max_ratio = 200;                      // a member's unpacked size / its compressed size
};

/// Unpacks the regular-file members of a .zip archive into `destination` (created), refusing
/// members whose names would escape it and archives beyond `limits`. Returns the extracted paths
/// in archive order.
Result<std::vector<std::filesystem::path>> ExtractZip(const std::filesystem::path& archive,
                                                      const std::filesystem::path& destination,
                                                      const ZipLimits& limits = {});

}  // namespace sluice::connectors
