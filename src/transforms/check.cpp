#include "transforms/check.hpp"

#include <fmt/format.h>

#include "common/strings.hpp"

namespace sluice::transforms {

const char* SeverityName(Severity severity) { return severity == Severity::kWarn ? "warn" : "fail"; }

Result<CheckResult> Check::Evaluate(CheckContext& context) const {
  CheckResult result;
  result.check = Name();
  result.table = context.table;
  result.severity = severity;
  std::string predicate = FailingRowPredicate();
  if (predicate.empty()) return Status::Internal("check {} has neither a row predicate nor its own evaluation", Name());
  SLUICE_ASSIGN_OR_RETURN(
      auto count, context.connection.Query(fmt::format("SELECT count(*) AS n FROM {} WHERE coalesce(({}), false)",
                                                       context.relation, predicate)));
  result.failed_rows = count.GetInt(0, "n");
  result.passed = result.failed_rows == 0;
  if (!result.passed)
    result.detail = fmt::format("{} row{} failed", result.failed_rows, result.failed_rows == 1 ? "" : "s");
  return result;
}

Result<std::vector<std::string>> CheckColumns(const config::Value& options, const std::string& where) {
  const config::Value* list = &options;
  if (options.IsMap()) {
    list = options.Find("columns");
    if (list == nullptr) list = options.Find("column");
    if (list == nullptr) return Status::Invalid("{}: {} needs columns: [..]", options.location().ToString(), where);
  }
  auto columns = list->AsStringList();
  if (!columns.ok() || columns->empty()) {
    return Status::Invalid("{}: {} needs one or more column names, e.g. [id] or [country, year]",
                           list->location().ToString(), where);
  }
  return *columns;
}

Result<std::vector<std::unique_ptr<Check>>> BuildChecks(const CheckRegistry& registry, const config::Value& checks,
                                                        const std::string& owner) {
  std::vector<std::unique_ptr<Check>> built;
  if (checks.IsNull()) return built;
  if (!checks.IsList()) {
    return Status::Invalid("{}: checks of {} must be a list, e.g. checks: [ {{not_null: [id]}} ]",
                           checks.location().ToString(), owner);
  }
  std::vector<std::string> errors;
  int index = 0;
  for (const auto& item : checks.items()) {
    ++index;
    std::string name;
    const config::Value* options = nullptr;
    if (item.IsMap()) {
      for (const auto& [key, value] : item.entries()) {
        if (key == "severity" || key == "quarantine") continue;
        if (!name.empty()) {
          errors.push_back(fmt::format("{}: check {} of {} names two checks ('{}' and '{}'); write one per item",
                                       item.location().ToString(), index, owner, name, key));
        }
        name = key;
        options = &value;
      }
    }
    if (name.empty()) {
      errors.push_back(fmt::format("{}: check {} of {} must be `name: options` (checks: {})",
                                   item.location().ToString(), index, owner, Join(registry.Names(), ", ")));
      continue;
    }
    const CheckDescriptor* descriptor = registry.Find(name);
    if (descriptor == nullptr) {
      std::string hint = NearestWord(name, registry.Names());
      errors.push_back(fmt::format("{}: unknown check '{}' in {}{}; available: {}", item.location().ToString(), name,
                                   owner, hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint),
                                   Join(registry.Names(), ", ")));
      continue;
    }
    std::string where = fmt::format("check {} ({}) of {}", index, name, owner);
    auto check = descriptor->create(*options, where);
    if (!check.ok()) {
      errors.push_back(check.status().message());
      continue;
    }
    if (const auto* severity = item.Find("severity")) {
      std::string text = severity->IsScalar() ? severity->scalar() : "";
      if (text == "warn") {
        (*check)->severity = Severity::kWarn;
      } else if (text != "fail") {
        errors.push_back(fmt::format("{}: severity '{}' of {} is not one of warn, fail",
                                     severity->location().ToString(), text, where));
      }
    }
    if (const auto* quarantine = item.Find("quarantine")) {
      auto on = quarantine->AsBool();
      if (!on.ok()) {
        errors.push_back(on.status().message());
      } else if (*on && (*check)->FailingRowPredicate().empty()) {
        errors.push_back(
            fmt::format("{}: {} counts over the whole table, so it cannot quarantine rows; quarantine "
                        "works with not_null, accepted_values, range, regex and expression",
                        quarantine->location().ToString(), where));
      } else {
        (*check)->quarantine = *on;
      }
    }
    built.push_back(std::move(check).value());
  }
  SLUICE_TRY(config::ErrorsToStatus(errors));
  return built;
}

}  // namespace sluice::transforms
