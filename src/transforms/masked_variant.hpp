#pragma once

#include <string>

#include "common/secret.hpp"
#include "common/status.hpp"
#include "config/value.hpp"
#include "engine/engine.hpp"

// A job's `mask:` key: besides its table, the job publishes `<table>__masked`, the same rows with
// the named columns masked. The pipeline writes that table; which SQL masks it is decided here.

namespace sluice::transforms {

/// Checks the job's `mask:` value without reading data; errors carry its file:line.
Status ValidateJobMask(const config::Value& mask, const std::string& job);

/// `SELECT …` over `relation` with the columns named by the job's `mask:` masked under `key`; errors
/// say where the mask is configured.
Result<std::string> MaskedVariantSelect(engine::Connection& connection, const std::string& relation,
                                        const config::Value& mask, const std::string& job, const Secret& key);

}  // namespace sluice::transforms
