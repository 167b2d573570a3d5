#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "common/strings.hpp"
#include "config/document.hpp"
#include "config/pipeline_parsing.hpp"

namespace sluice::config::internal {
namespace {

void ReportCycle(const std::vector<ParsedJob>& parsed, const std::map<std::string, size_t>& index,
                 const std::vector<size_t>& waiting, std::string_view pipeline, std::vector<std::string>* errors) {
  // Every unfinished job depends on an unfinished one, so walking dependencies from any of
  // them must revisit a job: the part from its first visit on is a cycle.
  size_t start = 0;
  while (waiting[start] == 0) ++start;
  std::vector<size_t> walk;
  std::vector<int> seen_at(parsed.size(), -1);
  size_t current = start;
  while (seen_at[current] < 0) {
    seen_at[current] = static_cast<int>(walk.size());
    walk.push_back(current);
    for (const auto& ref : parsed[current].refs) {
      auto dep = index.find(ref.job);
      if (dep != index.end() && waiting[dep->second] != 0) {
        current = dep->second;
        break;
      }
    }
  }
  // In the direction the jobs would run (a -> b: b waits for a), from the first job in file order.
  std::vector<size_t> members(walk.begin() + seen_at[current], walk.end());
  std::reverse(members.begin(), members.end());
  std::rotate(members.begin(), std::min_element(members.begin(), members.end()), members.end());
  std::vector<std::string> cycle;
  for (size_t i : members) cycle.push_back(parsed[i].job.name);
  cycle.push_back(cycle.front());
  errors->push_back(
      Prefix(parsed[members.front()].job.location) +
      fmt::format("jobs of pipeline '{}' depend on each other in a cycle: {}; remove one of these depends_on", pipeline,
                  Join(cycle, " -> ")));
}

}  // namespace

std::vector<JobConfig> OrderJobs(std::vector<ParsedJob> parsed, std::string_view pipeline,
                                 std::vector<std::string>* errors) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < parsed.size(); ++i) index.emplace(parsed[i].job.name, i);
  std::vector<std::vector<size_t>> dependents(parsed.size());
  std::vector<size_t> waiting(parsed.size(), 0);
  std::vector<std::string> names;
  for (const auto& p : parsed) names.push_back(p.job.name);
  for (size_t i = 0; i < parsed.size(); ++i) {
    for (const auto& ref : parsed[i].refs) {
      auto it = index.find(ref.job);
      if (it == index.end()) {
        std::string nearest = NearestWord(ref.job, names);
        errors->push_back(Prefix(ref.location) +
                          fmt::format("job '{}' depends on '{}', which is not a job of pipeline '{}'{}",
                                      parsed[i].job.name, ref.job, pipeline,
                                      nearest.empty() ? fmt::format(" (its jobs: {})", Join(names, ", "))
                                                      : fmt::format(" (did you mean '{}'?)", nearest)));
        continue;
      }
      dependents[it->second].push_back(i);
      ++waiting[i];
    }
  }
  std::set<size_t> ready;
  for (size_t i = 0; i < parsed.size(); ++i) {
    if (waiting[i] == 0) ready.insert(i);
  }
  std::vector<size_t> order;
  while (!ready.empty()) {
    size_t next = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(next);
    for (size_t d : dependents[next]) {
      if (--waiting[d] == 0) ready.insert(d);
    }
  }
  if (order.size() < parsed.size()) ReportCycle(parsed, index, waiting, pipeline, errors);
  std::vector<JobConfig> jobs;
  for (size_t i : order) jobs.push_back(std::move(parsed[i].job));
  for (size_t i = 0; i < parsed.size(); ++i) {
    if (waiting[i] != 0) jobs.push_back(std::move(parsed[i].job));  // only reached with errors reported
  }
  return jobs;
}

}  // namespace sluice::config::internal
