#include "pipeline/checks_runner.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/strings.hpp"

namespace sluice::pipeline {
namespace {

const transforms::CheckRegistry& Checks() {
  static const transforms::CheckRegistry kRegistry = [] {
    transforms::CheckRegistry r;
    transforms::RegisterBuiltinChecks(r);
    return r;
  }();
  return kRegistry;
}

}  // namespace

Result<ChecksRunner> ChecksRunner::Build(const config::JobConfig& job, const std::string& pipeline) {
  SLUICE_ASSIGN_OR_RETURN(
      auto checks,
      transforms::BuildChecks(Checks(), job.checks, fmt::format("job '{}' of pipeline '{}'", job.name, pipeline)));
  ChecksRunner runner;
  for (auto& c : checks) runner.checks_.push_back(std::move(c));
  return runner;
}

std::string ChecksRunner::Kept(const std::string& relation) const {
  std::vector<std::string> failing;
  for (const auto& c : checks_) {
    if (c->quarantine) failing.push_back(fmt::format("coalesce(({}), false)", c->FailingRowPredicate()));
  }
  if (failing.empty()) return relation;
  return fmt::format("(SELECT * FROM {} WHERE NOT ({}))", relation, Join(failing, " OR "));
}

std::string ChecksRunner::Quarantined(const std::string& relation) const {
  std::vector<std::string> failing, names;
  for (const auto& c : checks_) {
    if (!c->quarantine) continue;
    std::string predicate = fmt::format("coalesce(({}), false)", c->FailingRowPredicate());
    failing.push_back(predicate);
    names.push_back(fmt::format("WHEN {} THEN {}", predicate, SqlQuote(c->Name())));
  }
  if (failing.empty()) return "";
  return fmt::format("SELECT *, CASE {} END AS _failed_check FROM {} WHERE {}", Join(names, " "), relation,
                     Join(failing, " OR "));
}

Status ChecksRunner::Audit(engine::Connection& connection, const std::string& output, const std::string& quarantined,
                           const std::string& table, TimePoint now, std::vector<CheckSummary>* summaries) const {
  std::vector<std::string> failures;
  transforms::CheckContext context{connection, output, table, now};
  for (const auto& check : checks_) {
    CheckSummary summary;
    summary.check = check->Name();
    summary.severity = transforms::SeverityName(check->severity);
    if (check->quarantine) {
      int64_t set_aside = 0;
      if (!quarantined.empty()) {
        SLUICE_ASSIGN_OR_RETURN(auto count,
                                connection.Query(fmt::format("SELECT count(*) AS n FROM {} WHERE _failed_check = {}",
                                                             quarantined, SqlQuote(check->Name()))));
        set_aside = count.GetInt(0, "n");
      }
      summary.status = set_aside == 0 ? CheckStatus::kPassed : CheckStatus::kQuarantined;
      summary.failed_rows = set_aside;
      if (set_aside > 0) summary.detail = fmt::format("{} rows set aside in {}__rejects", set_aside, table);
      summaries->push_back(std::move(summary));
      continue;
    }
    auto result = check->Evaluate(context);
    if (!result.ok()) {
      return result.status().WithContext("check {} on {} could not run", check->Name(), table);
    }
    summary.failed_rows = result->failed_rows;
    summary.detail = result->detail;
    if (result->passed) {
      summary.status = CheckStatus::kPassed;
    } else if (check->severity == transforms::Severity::kWarn) {
      summary.status = CheckStatus::kWarned;
      spdlog::warn("check {} on {}: {} (severity warn: the run goes on)", check->Name(), table, result->detail);
    } else {
      summary.status = CheckStatus::kFailed;
      failures.push_back(fmt::format("check {} failed on {}: {} failing row{} ({})", check->Name(), table,
                                     result->failed_rows, result->failed_rows == 1 ? "" : "s", result->detail));
    }
    summaries->push_back(std::move(summary));
  }
  if (failures.empty()) return Status::OK();
  return Status::DataError(
      "{}; nothing of this run was published (fix the data, or set severity: warn or "
      "quarantine: true on the check)",
      Join(failures, "; "));
}

}  // namespace sluice::pipeline
