#pragma once

#include "connectors/source.hpp"

namespace sluice::connectors {

/// Local files matching a glob: CSV, JSON (lines or arrays) and Parquet, with .gz read by DuckDB
/// and .zip unpacked into the run's scratch folder. Files already committed by earlier runs
/// (same path, size and modification time) are skipped.
SourceDescriptor FilesSourceDescriptor();

/// How files are read (format, CSV dialect, pinned columns, JSON layout): the files source's
/// options other than path:, shared with sources that fetch files before reading them (http).
struct FileReadOptions;
std::vector<config::OptionSpec> FileReadOptionSpecs();
/// Parses the FileReadOptionSpecs() keys of `options` (other keys are ignored).
Result<std::shared_ptr<const FileReadOptions>> ParseFileReadOptions(const config::Value& options);

/// A local file to read: `identity` is what the checkpoint records as consumed and, for a .zip,
/// the prefix its members show in _source_file.
struct LocalInput {
  ConsumedInput identity;
  std::filesystem::path path;
  bool is_zip = false;
};

/// Reads `inputs` (unpacking .zip ones into the run's work_dir) as one relation with a
/// _source_file column: the path relative to `display_root`, or archive/member. Its checkpoint
/// lists the inputs' identities.
std::unique_ptr<SourceReader> MakeFilesReader(std::shared_ptr<const FileReadOptions> options,
                                              std::filesystem::path display_root, std::vector<LocalInput> inputs,
                                              const RunContext& context);

/// Glob over local files: '*' and '?' within one path segment, '**' across segments.
/// `pattern` is absolute or relative to `base`. Results are absolute and sorted.
Result<std::vector<std::filesystem::path>> ExpandGlob(const std::filesystem::path& base, const std::string& pattern);

}  // namespace sluice::connectors
