#pragma once

#include <string>

#include "common/status.hpp"
#include "connectors/sink.hpp"

// `target: { type: files, path: exports/daily_revenue.csv, format: csv }`: a job's rows as plain
// files (CSV with a header row, NDJSON, zstd Parquet) in a local folder or under an s3:// prefix.
// Each Write stages its part as Parquet in the run's work folder; Commit converts the parts into
// the export (with the engine connection of the last Write, the job's, which outlives the writer)
// and only then publishes it, so readers never see a partial export.
namespace sluice::connectors {

SinkDescriptor FilesSinkDescriptor();

/// `path` with {date} (YYYY-MM-DD, UTC) and {run_id} replaced; any other {…} is an error.
Result<std::string> ExpandExportPath(const std::string& path, const std::string& date, const std::string& run_id);

}  // namespace sluice::connectors
