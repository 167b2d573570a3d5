#pragma once

#include "connectors/source.hpp"

namespace sluice::connectors {

/// A PostgreSQL table or query, read with binary COPY in bounded batches. mode: full copies
/// everything each run (the lake table is replaced); mode: incremental reads the rows whose
/// `cursor` column is above the stored watermark. See docs/connectors/postgres.md.
SourceDescriptor PostgresSourceDescriptor();

}  // namespace sluice::connectors
