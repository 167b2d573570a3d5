#pragma once

#include <optional>
#include <string>
#include <vector>

#include "catalog/metadata_store.hpp"
#include "config/pipeline.hpp"
#include "pipeline/workspace.hpp"

namespace sluice::pipeline {

/// The pipeline as it runs: its file's jobs with the catalog's window-job overrides applied
/// (step, partitioning), plus the jobs added with `sluice jobs add`. A catalog-only job is a copy of
/// the pipeline's first `mode: window` job whose source names a connection, reading its own
/// table into its own lake table; steps, checks, mask and depends_on are not copied.
Result<config::PipelineConfig> WithCatalogWindowJobs(catalog::MetadataStore& catalog,
                                                     const config::PipelineConfig& pipeline);

/// One window job as `sluice jobs list` shows it.
struct WindowJobListing {
  std::string pipeline, job;
  std::string defined_in;  // "pipeline file", "pipeline file + catalog" or "catalog"
  std::string source_table, target_table, column;
  std::string start, stop;     // the window the next run reads
  bool stored_window = false;  // the window comes from the job's state (it has rotated or was set)
  std::string step, partitioning;
  std::string last_status, last_run;  // of the job's newest recorded run; "" when it never ran
};

/// Window jobs of the given pipelines (only `pipeline_filter`'s when not ""), in pipeline order.
Result<std::vector<WindowJobListing>> ListWindowJobs(catalog::MetadataStore& catalog,
                                                     const std::vector<config::PipelineConfig>& pipelines,
                                                     const std::string& pipeline_filter);

/// What `sluice jobs set` / `sluice jobs add` change; unset fields stay as they are.
struct WindowJobChange {
  std::optional<std::string> source_table, target_table, column, start, stop, step, partition_by;
  std::optional<int64_t> lower_bound, upper_bound, num_partitions;
};

/// Changes a window job of the pipeline: its current window (the job's state, history kept) and its
/// step and partitioning (the catalog's jobs table). Refused while the pipeline runs.
Status SetWindowJob(Workspace& workspace, const config::PipelineConfig& pipeline, const std::string& job,
                    const WindowJobChange& change);

/// Adds a window job that exists only in the catalog (see WithCatalogWindowJobs).
Status AddWindowJob(Workspace& workspace, const config::PipelineConfig& pipeline, const std::string& job,
                    const WindowJobChange& change);

/// Removes a job added with `sluice jobs add`, with its state (stored window and history), so that a
/// job added again under that name starts from its own first window. The lake table and its data
/// stay. A job of the pipeline file is refused (it is removed by editing the file). Refused while
/// the pipeline runs.
Status RemoveWindowJob(Workspace& workspace, const config::PipelineConfig& pipeline, const std::string& job);

/// Orders two window bounds: whole numbers numerically, dates and timestamps by time (a time zone
/// suffix is not compared). nullopt when either is neither, or they are of different kinds.
std::optional<int> CompareWindowBounds(const std::string& a, const std::string& b);

}  // namespace sluice::pipeline
