#pragma once

#include "config/pipeline.hpp"
#include "pipeline/job_runner.hpp"
#include "pipeline/workspace.hpp"

// A job with `sql:` runs a script on a database connection (connectors/sql_script.hpp, chosen by
// the connection's type:) instead of moving rows: no source, no target, no lake commit.
namespace sluice::pipeline {

/// Without connecting: the connection is a database that runs SQL jobs, the script (file or
/// inline) can be read and splits into statements.
Status ValidateSqlJob(const Workspace& workspace, const config::PipelineConfig& pipeline, const config::JobConfig& job);

/// Runs the script in one transaction. rows_written is the sum over the statements; the message
/// lists each statement's line, command and rows. A timeout or cancellation cancels the running
/// statement on the server; a failure commits nothing.
JobSummary RunSqlJob(JobRunContext& context, const config::JobConfig& job);

}  // namespace sluice::pipeline
