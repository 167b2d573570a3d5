#pragma once

#include "common/status.hpp"
#include "config/value.hpp"
#include "pipeline/catalog_views.hpp"

namespace sluice::pipeline {

/// Refuses a query when `query.max_bytes_scanned` (of sluice.yaml's query: section) is set and the files its
/// plan keeps after partition pruning are larger; the message gives the figure, the limit and what to do.
Status CheckScanLimit(const config::Value& query_config, const ScanPlan& plan);

}  // namespace sluice::pipeline
