#pragma once

#include <filesystem>
#include <vector>

#include "common/status.hpp"

namespace sluice::connectors {

/// Unpacks the regular-file members of a .zip archive into `destination` (created), refusing
/// members whose names would escape it. Returns the extracted paths in archive order.
Result<std::vector<std::filesystem::path>> ExtractZip(const std::filesystem::path& archive,
                                                      const std::filesystem::path& destination);

}  // namespace sluice::connectors
