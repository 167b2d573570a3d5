#pragma once

#include <optional>
#include <string>

#include "catalog/metadata_store.hpp"
#include "common/status.hpp"
#include "config/value.hpp"

namespace sluice::pipeline {

/// Refuses `sql` when `query.max_bytes_scanned` (of sluice.yaml's query: section) is set and the files left
/// after partition pruning are larger; the message gives the figure, the limit and what to do.
Status CheckScanLimit(const config::Value& query_config, catalog::MetadataStore& catalog, const std::string& sql,
                      std::optional<int64_t> as_of);

}  // namespace sluice::pipeline
