#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.hpp"
#include "config/job_modes.hpp"
#include "config/options.hpp"
#include "config/project.hpp"
#include "config/value.hpp"

namespace sluice::config {

struct TargetConfig {
  std::string zone;  // raw | silver | gold
  std::string table;
  std::vector<std::string> partition_by;
  WriteMode write = WriteMode::kAppend;  // of a lake target
  /// A sink target's write: as written: the sink validates its own values when it is bound
  /// (PostgreSQL: append | replace | merge).
  std::string sink_write = "append";
  Value raw;  // whole target map (other keys such as file_size, add_metadata_columns)
  /// A sink outside the lake (connectors/sink.hpp): a connection of sluice.yaml (its type names the sink)
  /// or an inline type:. Both empty: the lake.
  std::string connection;
  std::string type;
  bool IsLake() const { return connection.empty() && type.empty(); }
  /// write: as configured, for people: the lake's spelling or the sink's text.
  std::string WriteLabel() const { return IsLake() ? ToString(write) : sink_write; }
  /// write: merge, in the lake or in a sink (it needs the job's primary_key:).
  bool Merges() const { return IsLake() ? write == WriteMode::kMerge : sink_write == ToString(WriteMode::kMerge); }
};

/// `sql:` of a job: a script run on a database connection of sluice.yaml, in one transaction.
struct SqlJobConfig {
  std::string connection;
  std::string file;    // relative to the project folder; or
  std::string script;  // the statements inline
  Location location;   // of file: / script: (messages; an inline script's lines count from here)
};

struct JobConfig {
  std::string name;
  Location location;
  std::string description;
  /// Jobs this one waits for; entries may be "job" or maps {job: x, condition: success|failure|always}.
  std::vector<std::string> depends_on;
  std::vector<std::pair<std::string, DependencyCondition>> depends_on_conditions;  // (job, condition)
  Value source;  // map; validated later by the connector chosen by type/connection/table
  LoadMode mode = LoadMode::kFull;
  std::vector<std::string> primary_key;
  DeleteHandling deletes = DeleteHandling::kIgnore;
  OnError on_error = OnError::kFail;
  Value window, partitioning, mask, steps, checks, schema;  // null when absent
  std::optional<int64_t> retries;                           // unset: the project's defaults decide
  std::optional<std::chrono::microseconds> timeout;         // unset: no limit unless defaults set one
  TargetConfig target;
  /// Set for a job that runs SQL on a database: it has no source or target.
  std::optional<SqlJobConfig> sql;
  Value raw;  // whole job map (for the single-job form: the pipeline map)
};

struct PipelineConfig {
  std::string name;            // `name:` or the file stem
  std::filesystem::path file;  // absolute
  Location location;
  std::string description;
  std::vector<std::string> tags;
  std::vector<std::string> environments;  // names defined under the pipeline's environments:
  Value triggers, notify;
  std::vector<JobConfig> jobs;  // topological order (stable: file order among independent jobs)
  Value raw;                    // merged document without its environments: section
  const JobConfig* FindJob(std::string_view job) const;
};

/// Keys of a job (also valid at the top of a single-job pipeline), the pipeline-only keys, and
/// the keys of target: (validation and docs/configuration.md).
const std::vector<OptionSpec>& JobKeys();
const std::vector<OptionSpec>& PipelineKeys();
const std::vector<OptionSpec>& TargetKeys();
const std::vector<OptionSpec>& SqlJobKeys();

/// Without `jobs:`, the top-level source/mode/steps/checks/target/... form one job named after the pipeline.
/// With `jobs:` (a map of name -> job, or a list of jobs with name:), those keys at top level are an error.
/// Every unknown key is an error with a nearest-key hint. depends_on naming a missing job, or a cycle, is an
/// error naming the jobs. A pipeline-level `environments.<env>` overlay (env: options.env, else project.env)
/// is applied like the project one. Collects ALL errors in the file into one Status.
Result<PipelineConfig> LoadPipeline(const std::filesystem::path& file, const ProjectConfig& project,
                                    const LoadOptions& options);
/// All pipelines/*.yaml (and *.yml) of the project, sorted by name; duplicate names are an error naming
/// both files. Errors of all files come back together.
Result<std::vector<PipelineConfig>> LoadPipelines(const ProjectConfig& project, const LoadOptions& options);

}  // namespace sluice::config
