#pragma once

#include <string>

#include "config/pipeline.hpp"
#include "pipeline/job_runner.hpp"

namespace sluice::pipeline {

/// The catalog state key under which a mode: cdc job keeps its slot, what sluice created and the
/// WAL position its committed data reaches (connectors/change_capture.hpp).
inline constexpr const char* kCdcStateKey = "cdc";
/// While the initial copy is under way: the lake tables it has finished ({"tables": [...]}).
inline constexpr const char* kCdcCopyKey = "cdc_copy";

/// mode: cdc: the first run (or --full-refresh) copies every table in the slot's exported snapshot
/// through the ordinary full-load path; then micro-batches of whole transactions land in the raw
/// tables, each committed with the position it reaches, which only then is confirmed to the
/// server. Without context.follow the job stops once it has caught up with the server's WAL
/// position at its start; with it, when context.stop_following is set.
JobSummary RunCdcJob(JobRunContext& context, const config::JobConfig& job);

}  // namespace sluice::pipeline
