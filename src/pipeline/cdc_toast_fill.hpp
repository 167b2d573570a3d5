#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "connectors/change_capture.hpp"
#include "engine/engine.hpp"

namespace sluice::pipeline {

/// A view over `batch.relation` in which every value the source did not send (unchanged TOAST,
/// listed in connectors::kUnchangedColumn) holds the row's previous value: from an earlier change
/// of the same key in the batch, else from the latest row of that key in the lake table
/// (`lake_scan`: SQL reading its current version; nullopt when the table has none yet). Fails,
/// naming table, key and column, when no previous value exists, instead of landing a false NULL.
/// The view keeps kUnchangedColumn; the writer drops it.
Result<std::string> FillUnchangedValues(engine::Connection& connection, const connectors::ChangeBatchTable& batch,
                                        const std::optional<std::string>& lake_scan, const std::string& where);

}  // namespace sluice::pipeline
