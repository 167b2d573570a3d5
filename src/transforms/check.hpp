#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.hpp"
#include "common/registry.hpp"
#include "common/status.hpp"
#include "config/options.hpp"
#include "config/value.hpp"
#include "engine/engine.hpp"

namespace sluice::transforms {

enum class Severity { kWarn, kFail };

/// One check's verdict on a run's output.
struct CheckResult {
  std::string check;  // e.g. "unique(country, year)"
  std::string table;  // zone.table checked
  Severity severity = Severity::kFail;
  bool passed = true;
  int64_t failed_rows = 0;
  int64_t quarantined_rows = 0;
  std::string detail;  // e.g. "3 rows have a NULL country or year"
};

struct CheckContext {
  engine::Connection& connection;
  std::string relation;  // the output as the commit would publish it
  std::string table;     // zone.table
  TimePoint now;
};

/// A declarative data-quality check. Row checks (not_null, accepted_values, range, regex, sql
/// assertions per row) name the failing rows with a predicate, so they can also be quarantined;
/// table checks (unique, row_count, freshness, foreign_key, sql queries) only count.
class Check {
 public:
  virtual ~Check() = default;
  virtual std::string Name() const = 0;
  /// SQL predicate true for a failing row; "" for a table check.
  virtual std::string FailingRowPredicate() const { return ""; }
  /// How many rows (or, for row_count/freshness, 1 or 0) fail, and a sentence saying why.
  virtual Result<CheckResult> Evaluate(CheckContext& context) const;

  Severity severity = Severity::kFail;
  bool quarantine = false;
};

struct CheckDescriptor {
  std::string name;
  std::string description;
  std::vector<config::OptionSpec> options;  // documented; map-valued checks are validated against them
  std::function<Result<std::unique_ptr<Check>>(const config::Value& options, const std::string& where)> create;
};

template <typename T, typename... Args>
Result<std::unique_ptr<Check>> MakeCheck(Args&&... args) {
  return std::unique_ptr<Check>(std::make_unique<T>(std::forward<Args>(args)...));
}

using CheckRegistry = PluginRegistry<CheckDescriptor, &CheckDescriptor::name>;

void RegisterBuiltinChecks(CheckRegistry& registry);

/// Builds a job's `checks:` list. Each item is `name: options` plus optional sibling keys
/// `severity: warn | fail` (default fail) and `quarantine: true` (row checks only).
Result<std::vector<std::unique_ptr<Check>>> BuildChecks(const CheckRegistry& registry, const config::Value& checks,
                                                        const std::string& owner);

/// Columns given as `[a, b]`, `a`, or a map with `columns:` / `column:`.
Result<std::vector<std::string>> CheckColumns(const config::Value& options, const std::string& where);

const char* SeverityName(Severity severity);

}  // namespace sluice::transforms
