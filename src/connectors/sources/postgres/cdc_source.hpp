#pragma once

#include <memory>
#include <vector>

#include "config/options.hpp"
#include "connectors/source.hpp"

namespace sluice::connectors {

/// Keys of a job's cdc: section (mode: cdc of the postgres source).
const std::vector<config::OptionSpec>& PostgresCdcKeys();
/// The keys of cdc: heartbeat:.
const std::vector<config::OptionSpec>& PostgresCdcHeartbeatKeys();

/// mode: cdc of the postgres source: `table:` or `tables:`, and the job's cdc: section. The
/// source's OpenChangeCapture() follows the tables through a logical replication slot.
Result<std::unique_ptr<Source>> BindPostgresCdc(const BindContext& context, const config::Value& options);

}  // namespace sluice::connectors
