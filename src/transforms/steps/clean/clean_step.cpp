#include "transforms/steps/clean/clean_step.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "common/strings.hpp"
#include "config/option_reader.hpp"
#include "engine/space_trim.hpp"

namespace sluice::transforms {
namespace {

const std::vector<config::OptionSpec>& CleanOptions() {
  static const std::vector<config::OptionSpec> kOptions = {
      {"names", config::OptionType::kString, "keep", false, false,
       "snake_case (rename columns: Country Name -> country_name, GDPPerCapita -> gdp_per_capita; a name "
       "already taken gets _2, _3, ...) | keep. Columns starting with _ (metadata) keep their names"},
      {"trim", config::OptionType::kBool, "true", false, false, "strip leading and trailing spaces of text columns"},
      {"null_tokens", config::OptionType::kStringList, "['', 'NULL', 'null', 'N/A']", false, false,
       "text values (after trimming) that become NULL"},
      {"types", config::OptionType::kMap, "", false, false,
       "column (its new name) -> type: integer, bigint, double, decimal(p,s), text, date, timestamp, boolean, or "
       "any DuckDB type"},
      {"on_type_error", config::OptionType::kString, "fail", false, false,
       "a value that does not fit its type: fail (the run fails, naming the value) | null (becomes NULL) | reject "
       "(the row goes to TABLE__rejects with the reason in _reject_reason)"},
      {"dedupe", config::OptionType::kAny, "false", false, false,
       "true: drop rows equal in every data column (columns not starting with _); or {key: [cols], order_by: col} "
       "to keep, per key, the row with the highest order_by"},
  };
  return kOptions;
}

/// on_type_error: of clean — what a value that does not fit its type does.
enum class TypeErrorPolicy { kFail, kNull, kReject };

struct CleanConfig {
  bool snake_case = false;
  bool trim = true;
  std::vector<std::string> null_tokens = {"", "NULL", "null", "N/A"};
  std::vector<std::pair<std::string, std::string>> types;  // new column name -> DuckDB type
  TypeErrorPolicy on_type_error = TypeErrorPolicy::kFail;
  bool dedupe = false;
  std::vector<std::string> dedupe_key;
  std::string dedupe_order_by;
};

struct CleanColumn {
  std::string original, name, expression, type;  // type: "" = unchanged
};

class CleanStep : public Step {
 public:
  explicit CleanStep(CleanConfig config) : config_(std::move(config)) {}

  Result<std::string> Rewrite(StepContext& context, const std::string& input) override {
    SLUICE_ASSIGN_OR_RETURN(auto columns, Columns(context, input));
    std::vector<std::string> select;
    for (const auto& c : columns) {
      std::string value = c.expression;
      if (!c.type.empty()) {
        value = fmt::format("{}({} AS {})", config_.on_type_error == TypeErrorPolicy::kFail ? "CAST" : "TRY_CAST",
                            value, c.type);
      }
      select.push_back(fmt::format("{} AS {}", value, SqlIdent(c.name)));
    }
    std::string where;
    if (config_.on_type_error == TypeErrorPolicy::kReject) {
      std::string unfit = UnfitCondition(columns);
      if (!unfit.empty()) where = fmt::format(" WHERE NOT ({})", unfit);
    }
    std::string cleaned = fmt::format("SELECT {} FROM {}{}", Join(select, ", "), input, where);
    if (!config_.dedupe) return cleaned;
    if (!config_.dedupe_key.empty()) {
      std::vector<std::string> key;
      for (const auto& k : config_.dedupe_key) key.push_back(SqlIdent(k));
      return fmt::format(
          "SELECT * FROM ({}) QUALIFY row_number() OVER (PARTITION BY {} ORDER BY {} DESC NULLS LAST) = 1", cleaned,
          Join(key, ", "), config_.dedupe_order_by.empty() ? "1" : SqlIdent(config_.dedupe_order_by));
    }
    std::vector<std::string> data_columns;
    bool has_metadata = false;
    for (const auto& c : columns) {
      if (StartsWith(c.name, "_")) {
        has_metadata = true;
      } else {
        data_columns.push_back(SqlIdent(c.name));
      }
    }
    // Metadata columns (_source_file, _loaded_at) differ between copies of the same row, so
    // equality is judged on the data columns only.
    if (!has_metadata || data_columns.empty()) return fmt::format("SELECT DISTINCT * FROM ({})", cleaned);
    return fmt::format("SELECT DISTINCT ON ({}) * FROM ({})", Join(data_columns, ", "), cleaned);
  }

  Result<std::optional<StepRejects>> Rejects(StepContext& context, const std::string& input) override {
    if (config_.on_type_error != TypeErrorPolicy::kReject) return std::optional<StepRejects>{};
    SLUICE_ASSIGN_OR_RETURN(auto columns, Columns(context, input));
    std::vector<std::string> reasons;
    for (const auto& c : columns) {
      if (c.type.empty()) continue;
      reasons.push_back(fmt::format("CASE WHEN {0} IS NOT NULL AND TRY_CAST({0} AS {1}) IS NULL THEN {2} END",
                                    c.expression, c.type,
                                    SqlQuote(fmt::format("column {}: value does not fit {}", c.name, c.type))));
    }
    if (reasons.empty()) return std::optional<StepRejects>{};
    return std::optional<StepRejects>{
        StepRejects{fmt::format("SELECT *, concat_ws('; ', {}) AS _reject_reason FROM {} WHERE {}", Join(reasons, ", "),
                                input, UnfitCondition(columns))}};
  }

 private:
  static std::string UnfitCondition(const std::vector<CleanColumn>& columns) {
    std::vector<std::string> unfit;
    for (const auto& c : columns) {
      if (c.type.empty()) continue;
      unfit.push_back(fmt::format("({0} IS NOT NULL AND TRY_CAST({0} AS {1}) IS NULL)", c.expression, c.type));
    }
    return Join(unfit, " OR ");
  }

  Result<std::vector<CleanColumn>> Columns(StepContext& context, const std::string& input) {
    SLUICE_ASSIGN_OR_RETURN(auto described, context.connection.Describe("SELECT * FROM " + input));
    std::string trim_function;
    if (config_.trim) {
      SLUICE_ASSIGN_OR_RETURN(trim_function, engine::EnsureSpaceTrimFunction(context.connection));
    }
    std::vector<CleanColumn> columns;
    std::set<std::string> taken;
    for (const auto& d : described) {
      CleanColumn c;
      c.original = d.name;
      std::string wanted = config_.snake_case && !StartsWith(d.name, "_") ? SnakeCase(d.name) : d.name;
      c.name = wanted;
      for (int n = 2; taken.count(c.name) != 0; ++n) c.name = fmt::format("{}_{}", wanted, n);
      taken.insert(c.name);
      c.expression = SqlIdent(d.name);
      if (d.type == "VARCHAR" && !StartsWith(d.name, "_")) {  // metadata columns stay as loaded
        if (config_.trim) c.expression = fmt::format("{}({})", trim_function, c.expression);
        if (!config_.null_tokens.empty()) {
          std::vector<std::string> tokens;
          for (const auto& t : config_.null_tokens) tokens.push_back(SqlQuote(config_.trim ? Trim(t) : t));
          c.expression = fmt::format("CASE WHEN {0} IN ({1}) THEN NULL ELSE {0} END", c.expression, Join(tokens, ", "));
        }
      }
      columns.push_back(std::move(c));
    }
    std::vector<std::string> names;
    for (const auto& c : columns) names.push_back(c.name);
    for (const auto& [column, type] : config_.types) {
      auto it = std::find_if(columns.begin(), columns.end(),
                             [&column = column](const CleanColumn& c) { return c.name == column; });
      if (it == columns.end()) {
        std::string hint = NearestWord(column, names);
        return Status::Invalid("clean: types names column '{}', which the input of {} does not have{}; columns: {}",
                               column, context.target_table,
                               hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint), Join(names, ", "));
      }
      it->type = type;
    }
    return columns;
  }

  CleanConfig config_;
};

Result<std::unique_ptr<Step>> CreateClean(const config::Value& options, const std::string& where) {
  CleanConfig config;
  if (options.IsNull()) return MakeStep<CleanStep>(config);
  SLUICE_TRY(ValidateStepOptions(options, CleanOptions(), where));
  config::OptionReader keys(options, CleanOptions());
  SLUICE_ASSIGN_OR_RETURN(auto names, keys.String("names"));
  if (names != "snake_case" && names != "keep") {
    return Status::Invalid("{}: names '{}' of {} is not one of snake_case, keep",
                           options.Find("names")->location().ToString(), names, where);
  }
  config.snake_case = names == "snake_case";
  SLUICE_ASSIGN_OR_RETURN(config.trim, keys.Bool("trim"));
  if (const auto* tokens = options.Find("null_tokens")) {
    SLUICE_ASSIGN_OR_RETURN(config.null_tokens, tokens->AsStringList());
  }
  if (const auto* types = options.Find("types"); types != nullptr && types->IsMap()) {
    for (const auto& [column, type] : types->entries()) {
      SLUICE_ASSIGN_OR_RETURN(auto word, type.AsString());
      config.types.emplace_back(column, DuckDbType(word));
    }
  }
  SLUICE_ASSIGN_OR_RETURN(auto on_type_error, keys.String("on_type_error"));
  static const std::map<std::string, TypeErrorPolicy> kPolicies = {
      {"fail", TypeErrorPolicy::kFail}, {"null", TypeErrorPolicy::kNull}, {"reject", TypeErrorPolicy::kReject}};
  auto policy = kPolicies.find(on_type_error);
  if (policy == kPolicies.end()) {
    return Status::Invalid("{}: on_type_error '{}' of {} is not one of fail, null, reject",
                           options.Find("on_type_error")->location().ToString(), on_type_error, where);
  }
  config.on_type_error = policy->second;
  if (const auto* dedupe = options.Find("dedupe")) {
    if (dedupe->IsMap()) {
      static const std::vector<config::OptionSpec> kDedupe = {
          {"key", config::OptionType::kStringList, "", true, false, "columns identifying a row"},
          {"order_by", config::OptionType::kString, "", false, false, "the highest value is kept"}};
      SLUICE_TRY(ValidateStepOptions(*dedupe, kDedupe, "dedupe of " + where));
      config.dedupe = true;
      SLUICE_ASSIGN_OR_RETURN(config.dedupe_key, dedupe->Find("key")->AsStringList());
      SLUICE_ASSIGN_OR_RETURN(config.dedupe_order_by, dedupe->GetString("order_by", ""));
    } else {
      SLUICE_ASSIGN_OR_RETURN(config.dedupe, dedupe->AsBool());
    }
  }
  return MakeStep<CleanStep>(std::move(config));
}

}  // namespace

StepDescriptor CleanStepDescriptor() {
  return {"clean", "rename to snake_case, trim, turn null tokens into NULL, coerce types, dedupe", CleanOptions(),
          CreateClean};
}

}  // namespace sluice::transforms
