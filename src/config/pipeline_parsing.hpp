#pragma once

// Internal to config/: the parts of LoadPipeline (pipeline.cpp, the document), one file each —
// reading a job (pipeline_jobs.cpp) and its target (pipeline_target.cpp), and ordering the jobs
// by depends_on (pipeline_order.cpp). Every problem goes to `errors`, so that a file's errors are
// reported together.

#include <string>
#include <string_view>
#include <vector>

#include "config/pipeline.hpp"
#include "config/project.hpp"
#include "config/value.hpp"

namespace sluice::config::internal {

/// A depends_on entry, with where it is written (for "not a job of pipeline" messages).
struct DependencyRef {
  std::string job;
  Location location;
};

struct ParsedJob {
  JobConfig job;
  std::vector<DependencyRef> refs;
};

/// " (did you mean 'x'?)", else " (defined: a, b)", else `none` when nothing is defined.
std::string UndefinedNameHint(const std::string& name, const std::vector<std::string>& defined, std::string_view none);

/// Reads the keys of one job (or of a single-job pipeline's top level) into a JobConfig.
class JobParser {
 public:
  JobParser(const ProjectConfig& project, std::vector<std::string>* errors) : project_(project), errors_(errors) {}

  /// Reads a job map that ValidateOptions has already checked against its key table.
  ParsedJob ParseJob(const Value& value, std::string name, Location location, std::string_view owner);

 private:
  void Error(const Location& loc, std::string message);
  /// `value` must be one of `allowed`; leaves *out alone when absent.
  void Choice(const Value* value, std::string_view key, std::string_view owner, const std::vector<std::string>& allowed,
              std::string* out);
  /// `value` read with `parse` (config/job_modes.hpp); leaves *out alone when absent.
  template <typename Enum>
  void Choice(const Value* value, std::string_view owner, Result<Enum> (*parse)(std::string_view, std::string_view),
              Enum* out) {
    if (value == nullptr || !value->IsScalar()) return;  // wrong types are reported by ValidateOptions
    Result<Enum> parsed = parse(value->scalar(), owner);
    if (parsed.ok()) {
      *out = *parsed;
    } else {
      Error(value->location(), parsed.status().message());
    }
  }
  std::vector<DependencyRef> ParseDependsOn(const Value* value, std::string_view owner, JobConfig* job);
  /// A sql: job runs a script on a database: it reads no source and writes no target, so the keys
  /// that shape rows are mistakes there.
  SqlJobConfig ParseSql(const Value& job, const Value& sql, std::string_view owner);
  TargetConfig ParseTarget(const Value* value, std::string_view owner, LoadMode mode);

  const ProjectConfig& project_;
  std::vector<std::string>* errors_;
};

/// The jobs in the order they run: Kahn's algorithm, taking the earliest job in file order among
/// the ready ones. A depends_on naming no job of the pipeline, or a cycle, is an error.
std::vector<JobConfig> OrderJobs(std::vector<ParsedJob> parsed, std::string_view pipeline,
                                 std::vector<std::string>* errors);

}  // namespace sluice::config::internal
