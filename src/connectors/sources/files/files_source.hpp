#pragma once

#include "connectors/source.hpp"
#include "connectors/sources/files/file_glob.hpp"
#include "storage/object_store.hpp"

namespace sluice::connectors {

/// Local files or S3 objects (s3://bucket/key globs) matching a glob: CSV, JSON (lines or arrays) and
/// Parquet, with .gz read by DuckDB and .zip unpacked into the run's scratch folder. Inputs already
/// committed by earlier runs are skipped: local files by path, size and modification time, S3 objects
/// by key, size and ETag. S3 objects are downloaded (streaming) into the run's scratch folder first.
SourceDescriptor FilesSourceDescriptor();

/// How files are read (format, CSV dialect, pinned columns, JSON layout): the files source's
/// options other than path:, shared with sources that fetch files before reading them (http).
struct FileReadOptions;
const std::vector<config::OptionSpec>& FileReadOptionSpecs();
/// Parses the FileReadOptionSpecs() keys of `options` (other keys are ignored).
Result<std::shared_ptr<const FileReadOptions>> ParseFileReadOptions(const config::Value& options);

/// A local file to read: `identity` is what the checkpoint records as consumed and, for a .zip,
/// the prefix its members show in _source_file.
struct LocalInput {
  ConsumedInput identity;
  std::filesystem::path path;
  bool is_zip = false;
  /// Set for an object still in a store: the reader downloads `remote_key` to `path` before reading.
  std::shared_ptr<storage::ObjectStore> remote;
  std::string remote_key;
};

/// Reads `inputs` (unpacking .zip ones into the run's work_dir) as one relation with a
/// _source_file column: the path relative to `display_root`, or archive/member. Its checkpoint
/// lists the inputs' identities.
std::unique_ptr<SourceReader> MakeFilesReader(std::shared_ptr<const FileReadOptions> options,
                                              std::filesystem::path display_root, std::vector<LocalInput> inputs,
                                              const RunContext& context);

}  // namespace sluice::connectors
