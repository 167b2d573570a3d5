#pragma once

#include "connectors/source.hpp"

namespace sluice::connectors {

/// Local files matching a glob: CSV, JSON (lines or arrays) and Parquet, with .gz read by DuckDB
/// and .zip unpacked into the run's scratch folder. Files already committed by earlier runs
/// (same path, size and modification time) are skipped.
SourceDescriptor FilesSourceDescriptor();

/// Glob over local files: '*' and '?' within one path segment, '**' across segments.
/// `pattern` is absolute or relative to `base`. Results are absolute and sorted.
Result<std::vector<std::filesystem::path>> ExpandGlob(const std::filesystem::path& base, const std::string& pattern);

}  // namespace sluice::connectors
