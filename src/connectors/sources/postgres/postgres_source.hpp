#pragma once

#include <vector>

#include "config/options.hpp"
#include "connectors/source.hpp"

namespace sluice::connectors {

/// A PostgreSQL table or query, read with binary COPY in bounded batches. mode: full copies
/// everything each run (the lake table is replaced); mode: incremental reads the rows whose
/// `cursor` column is above the stored watermark. See docs/connectors/postgres.md.
SourceDescriptor PostgresSourceDescriptor();

/// Keys of a job's window: section (mode: window of the postgres source).
const std::vector<config::OptionSpec>& PostgresWindowKeys();
/// Keys of a job's partitioning: section (mode: window of the postgres source).
const std::vector<config::OptionSpec>& PostgresPartitioningKeys();

}  // namespace sluice::connectors
