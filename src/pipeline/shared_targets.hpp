#pragma once

#include <string>
#include <vector>

#include "config/pipeline.hpp"

namespace sluice::pipeline {

/// One message per table that more than one job writes (in one pipeline or across them), naming
/// the table and every such job with its pipeline and file position. Empty when each table has one
/// writer. A table with two writers is not corrupted (a commit that replaces files checks the
/// version it read), but the writers undo or repeat each other's work. With `involving`, only the
/// tables one of that pipeline's jobs writes.
std::vector<std::string> SharedTargetProblems(const std::vector<config::PipelineConfig>& pipelines,
                                              const std::string& involving = "");

}  // namespace sluice::pipeline
