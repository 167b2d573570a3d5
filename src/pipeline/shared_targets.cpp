#include "pipeline/shared_targets.hpp"

#include <fmt/format.h>

#include <map>
#include <set>

#include "common/strings.hpp"

namespace sluice::pipeline {

std::vector<std::string> SharedTargetProblems(const std::vector<config::PipelineConfig>& pipelines,
                                              const std::string& involving) {
  std::map<std::string, std::vector<std::string>> writers;  // zone.table -> "job 'j' of pipeline 'p' (where)"
  std::set<std::string> involved;
  for (const auto& pipeline : pipelines) {
    for (const auto& job : pipeline.jobs) {
      if (job.target.zone.empty() || job.target.table.empty()) continue;
      std::string where = job.location.ToString();
      if (pipeline.name == involving) involved.insert(job.target.zone + "." + job.target.table);
      writers[job.target.zone + "." + job.target.table].push_back(
          fmt::format("job '{}' of pipeline '{}'{}", job.name, pipeline.name, where.empty() ? "" : " (" + where + ")"));
    }
  }
  std::vector<std::string> problems;
  for (const auto& [table, jobs] : writers) {
    if (jobs.size() < 2 || (!involving.empty() && involved.count(table) == 0)) continue;
    problems.push_back(fmt::format(
        "table {} is the target of {} jobs: {}. Each table needs one writing job: give the others their own "
        "target table (and combine the tables in a processing job), or load every input in one job",
        table, jobs.size(), Join(jobs, ", ")));
  }
  return problems;
}

}  // namespace sluice::pipeline
