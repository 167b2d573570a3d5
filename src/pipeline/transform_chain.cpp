#include "pipeline/transform_chain.hpp"

#include <fmt/format.h>

#include "common/strings.hpp"

namespace sluice::pipeline {
namespace {

const transforms::StepRegistry& Steps() {
  static const transforms::StepRegistry kRegistry = [] {
    transforms::StepRegistry r;
    transforms::RegisterBuiltinSteps(r);
    return r;
  }();
  return kRegistry;
}

}  // namespace

Result<TransformChain> TransformChain::Build(const config::JobConfig& job, const std::string& pipeline) {
  std::string owner = fmt::format("job '{}' of pipeline '{}'", job.name, pipeline);
  SLUICE_ASSIGN_OR_RETURN(auto steps, transforms::BuildSteps(Steps(), job.steps, owner));
  TransformChain chain;
  for (auto& s : steps) chain.steps_.push_back(std::move(s));
  if (job.target.write == config::WriteMode::kMerge && job.target.IsLake()) {  // a sink merges in its own system
    if (job.primary_key.empty()) {
      return Status::Invalid("{}: target.write: merge of {} needs primary_key: [columns] on the job",
                             job.location.ToString(), owner);
    }
    std::vector<std::pair<std::string, config::Value>> entries;
    std::vector<config::Value> key;
    for (const auto& k : job.primary_key) key.push_back(config::Value::Scalar(k));
    entries.emplace_back("key", config::Value::List(std::move(key)));
    SLUICE_ASSIGN_OR_RETURN(auto merge, Steps().Find("merge")->create(config::Value::Map(std::move(entries)),
                                                                      "target.write: merge of " + owner));
    chain.steps_.push_back(std::move(merge));
  }
  return chain;
}

void TransformChain::AdjustWrite(transforms::WritePlan* plan) const {
  for (const auto& s : steps_) s->AdjustWrite(plan);
}

Result<std::string> TransformChain::Apply(transforms::StepContext& context, const std::string& input,
                                          const std::string& prefix, std::vector<std::string>* rejects) const {
  std::string relation = input;
  int n = 0;
  for (const auto& step : steps_) {
    ++n;
    SLUICE_ASSIGN_OR_RETURN(auto set_aside, step->Rejects(context, relation));
    if (set_aside) rejects->push_back(set_aside->select_sql);
    SLUICE_ASSIGN_OR_RETURN(auto select, step->Rewrite(context, relation));
    std::string view = SqlIdent(fmt::format("{}_{}", prefix, n));
    Status created = context.connection.Execute(fmt::format("CREATE OR REPLACE TEMP VIEW {} AS {}", view, select));
    if (!created.ok()) return created.WithContext("step {} of the job", n);
    relation = view;
  }
  return relation;
}

}  // namespace sluice::pipeline
