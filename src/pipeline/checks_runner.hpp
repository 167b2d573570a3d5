#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/pipeline.hpp"
#include "pipeline/progress.hpp"
#include "transforms/check.hpp"

namespace sluice::pipeline {

/// A job's `checks:` run as write-audit-publish: row checks marked `quarantine: true` filter the
/// output before it is staged; every check then audits the staged output (what the commit would
/// publish). A failing check of severity fail stops the commit.
class ChecksRunner {
 public:
  static Result<ChecksRunner> Build(const config::JobConfig& job, const std::string& pipeline);

  /// SELECT of the rows of `relation` no quarantining check rejects; `relation` itself when none.
  std::string Kept(const std::string& relation) const;
  /// SELECT of the quarantined rows with `_failed_check`; "" when no check quarantines.
  std::string Quarantined(const std::string& relation) const;

  /// Evaluates the checks over `output` (and counts per check in `quarantined`, the relation of
  /// the rows set aside, or ""). Returns DataError naming each failing fail-severity check, the
  /// table and its failed row count; results (all of them) are appended to `summaries`.
  Status Audit(engine::Connection& connection, const std::string& output, const std::string& quarantined,
               const std::string& table, TimePoint now, std::vector<CheckSummary>* summaries) const;

 private:
  std::vector<std::shared_ptr<transforms::Check>> checks_;
};

}  // namespace sluice::pipeline
