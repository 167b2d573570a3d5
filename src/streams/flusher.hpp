#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/status.hpp"
#include "config/stream.hpp"
#include "pipeline/workspace.hpp"

// One flush: a sealed spool segment → DuckDB (schema inferred from the records, derived columns) → staged
// Parquet → uploaded → one catalog commit holding the data, the rejects and the spool segment reached.
namespace sluice::streams {

/// The catalog state scope of a stream and the key its committed spool segment is kept under.
std::string StreamStateScope(const std::string& stream);
inline constexpr const char* kSpoolStateKey = "spool";

/// The last spool segment of `stream` committed to the lake (0: none).
Result<uint64_t> CommittedSegment(catalog::MetadataStore& catalog, const std::string& stream);

struct FlushSummary {
  int64_t records = 0;        // records read from the segment
  int64_t rows_written = 0;   // into the table
  int64_t rows_rejected = 0;  // into <table>__rejects
  int64_t bytes_written = 0;
  int64_t files_written = 0;  // data and rejects
  int64_t table_version = 0;
};

/// Lands the records of `segment_file` (segment number `segment`) in the stream's table. Nothing becomes
/// visible unless the whole commit succeeds; the caller deletes the segment only afterwards.
Result<FlushSummary> FlushSegment(pipeline::Workspace& workspace, const config::StreamConfig& stream,
                                  const std::filesystem::path& segment_file, uint64_t segment);

}  // namespace sluice::streams
