#include <fmt/format.h>

#include "common/strings.hpp"
#include "transforms/checks/builtin_checks.hpp"
#include "transforms/step.hpp"

namespace sluice::transforms {
namespace {

/// A row check is its name plus the predicate that marks a failing row.
class PredicateCheck : public Check {
 public:
  PredicateCheck(std::string name, std::string predicate) : name_(std::move(name)), predicate_(std::move(predicate)) {}
  std::string Name() const override { return name_; }
  std::string FailingRowPredicate() const override { return predicate_; }

 private:
  std::string name_, predicate_;
};

std::string Column(const std::string& name) { return SqlIdent(name); }

Result<std::string> RequiredString(const config::Value& options, const char* key, const std::string& where) {
  const auto* value = options.IsMap() ? options.Find(key) : nullptr;
  if (value == nullptr || !value->IsScalar()) {
    return Status::Invalid("{}: {} needs {}:", options.location().ToString(), where, key);
  }
  return value->scalar();
}

}  // namespace

CheckDescriptor NotNullCheckDescriptor() {
  return {"not_null",
          "the columns are never NULL",
          {{"columns", config::OptionType::kStringList, "", true, false, "columns that must have a value"}},
          [](const config::Value& options, const std::string& where) -> Result<std::unique_ptr<Check>> {
            SLUICE_ASSIGN_OR_RETURN(auto columns, CheckColumns(options, where));
            std::vector<std::string> nulls;
            for (const auto& c : columns) nulls.push_back(Column(c) + " IS NULL");
            return MakeCheck<PredicateCheck>(fmt::format("not_null({})", Join(columns, ", ")), Join(nulls, " OR "));
          }};
}

CheckDescriptor AcceptedValuesCheckDescriptor() {
  return {"accepted_values",
          "the column only holds listed values (NULL passes; add not_null to forbid it)",
          {{"column", config::OptionType::kString, "", true, false, "column to check"},
           {"values", config::OptionType::kStringList, "", true, false, "allowed values, compared as text"}},
          [](const config::Value& options, const std::string& where) -> Result<std::unique_ptr<Check>> {
            SLUICE_TRY(ValidateStepOptions(options, AcceptedValuesCheckDescriptor().options, where));
            SLUICE_ASSIGN_OR_RETURN(auto column, RequiredString(options, "column", where));
            SLUICE_ASSIGN_OR_RETURN(auto values, options.Find("values")->AsStringList());
            std::vector<std::string> quoted;
            for (const auto& v : values) quoted.push_back(SqlQuote(v));
            return MakeCheck<PredicateCheck>(
                fmt::format("accepted_values({})", column),
                fmt::format("CAST({} AS VARCHAR) NOT IN ({})", Column(column), Join(quoted, ", ")));
          }};
}

CheckDescriptor RangeCheckDescriptor() {
  return {"range",
          "the column lies within min..max (inclusive; NULL passes)",
          {{"column", config::OptionType::kString, "", true, false, "column to check"},
           {"min", config::OptionType::kAny, "", false, false, "lowest allowed value (number, date or timestamp)"},
           {"max", config::OptionType::kAny, "", false, false, "highest allowed value"}},
          [](const config::Value& options, const std::string& where) -> Result<std::unique_ptr<Check>> {
            SLUICE_TRY(ValidateStepOptions(options, RangeCheckDescriptor().options, where));
            SLUICE_ASSIGN_OR_RETURN(auto column, RequiredString(options, "column", where));
            std::vector<std::string> outside;
            // A string literal compares as the column's type, so numbers and dates both work.
            if (const auto* min = options.Find("min")) {
              outside.push_back(fmt::format("{} < {}", Column(column), SqlQuote(min->scalar())));
            }
            if (const auto* max = options.Find("max")) {
              outside.push_back(fmt::format("{} > {}", Column(column), SqlQuote(max->scalar())));
            }
            if (outside.empty())
              return Status::Invalid("{}: {} needs min:, max: or both", options.location().ToString(), where);
            return MakeCheck<PredicateCheck>(fmt::format("range({})", column), Join(outside, " OR "));
          }};
}

CheckDescriptor RegexCheckDescriptor() {
  return {"regex",
          "the column's text matches a regular expression in full (NULL passes)",
          {{"column", config::OptionType::kString, "", true, false, "column to check"},
           {"pattern", config::OptionType::kString, "", true, false, "RE2 pattern the whole value must match"}},
          [](const config::Value& options, const std::string& where) -> Result<std::unique_ptr<Check>> {
            SLUICE_TRY(ValidateStepOptions(options, RegexCheckDescriptor().options, where));
            SLUICE_ASSIGN_OR_RETURN(auto column, RequiredString(options, "column", where));
            SLUICE_ASSIGN_OR_RETURN(auto pattern, RequiredString(options, "pattern", where));
            return MakeCheck<PredicateCheck>(
                fmt::format("regex({})", column),
                fmt::format("NOT regexp_full_match(CAST({} AS VARCHAR), {})", Column(column), SqlQuote(pattern)));
          }};
}

CheckDescriptor ExpressionCheckDescriptor() {
  return {"expression",
          "a SQL condition every row must satisfy, e.g. expression: \"value >= 0 OR value IS NULL\"",
          {},
          [](const config::Value& options, const std::string& where) -> Result<std::unique_ptr<Check>> {
            if (!options.IsScalar() || Trim(options.scalar()).empty()) {
              return Status::Invalid("{}: {} needs a SQL condition, e.g. expression: \"value >= 0\"",
                                     options.location().ToString(), where);
            }
            return MakeCheck<PredicateCheck>(fmt::format("expression({})", options.scalar()),
                                             fmt::format("NOT ({})", options.scalar()));
          }};
}

}  // namespace sluice::transforms
