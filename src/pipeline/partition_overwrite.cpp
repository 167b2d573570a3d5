#include "pipeline/partition_overwrite.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/strings.hpp"

namespace sluice::pipeline {

Result<PartitionOverwrite> PlanPartitionOverwrite(engine::Connection& connection, const TransformChain& chain,
                                                  transforms::StepContext& step_context, const std::string& relation,
                                                  const std::vector<std::string>& partition_by,
                                                  const std::string& table, const std::string& job) {
  std::vector<std::string> ignored_rejects;  // the recomputation sets them aside
  SLUICE_ASSIGN_OR_RETURN(auto shaped,
                          chain.Apply(step_context, relation, fmt::format("affected_{}", job), &ignored_rejects));
  SLUICE_ASSIGN_OR_RETURN(auto columns, connection.Describe("SELECT * FROM " + shaped));
  std::vector<std::string> types, as_text;
  for (const auto& p : partition_by) {
    auto c = std::find_if(columns.begin(), columns.end(), [&](const auto& d) { return d.name == p; });
    if (c == columns.end()) {
      return Status::Invalid("partition column '{}' of {} is not in the output of job '{}'", p, table, job);
    }
    types.push_back(c->type);
    as_text.push_back(fmt::format("CAST({} AS VARCHAR) AS {}", SqlIdent(p), SqlIdent(p)));
  }
  SLUICE_ASSIGN_OR_RETURN(auto partitions,
                          connection.Query(fmt::format("SELECT DISTINCT {} FROM {}", Join(as_text, ", "), shaped)));
  if (partitions.rows.empty()) return PartitionOverwrite{"false", 0};
  std::vector<std::set<std::string>> per_column(partition_by.size());
  std::vector<bool> has_null(partition_by.size(), false);
  std::vector<std::string> combinations;
  for (size_t r = 0; r < partitions.rows.size(); ++r) {
    std::vector<std::string> terms;
    for (size_t c = 0; c < partition_by.size(); ++c) {
      std::string column = SqlIdent(partition_by[c]);
      const auto& value = partitions.rows[r][c];
      if (!value) {
        has_null[c] = true;
        terms.push_back(column + " IS NULL");
        continue;
      }
      std::string literal = fmt::format("CAST({} AS {})", SqlQuote(*value), types[c]);
      per_column[c].insert(literal);
      terms.push_back(fmt::format("{} = {}", column, literal));
    }
    combinations.push_back("(" + Join(terms, " AND ") + ")");
  }
  std::vector<std::string> condition;
  for (size_t c = 0; c < partition_by.size(); ++c) {
    std::string column = SqlIdent(partition_by[c]);
    std::vector<std::string> alternatives;
    if (!per_column[c].empty()) {
      alternatives.push_back(fmt::format(
          "{} IN ({})", column, Join(std::vector<std::string>(per_column[c].begin(), per_column[c].end()), ", ")));
    }
    if (has_null[c]) alternatives.push_back(column + " IS NULL");
    condition.push_back("(" + Join(alternatives, " OR ") + ")");
  }
  if (partition_by.size() > 1) condition.push_back("(" + Join(combinations, " OR ") + ")");
  return PartitionOverwrite{Join(condition, " AND "), partitions.rows.size()};
}

}  // namespace sluice::pipeline
