#include <fmt/format.h>

#include <cctype>

#include "common/strings.hpp"
#include "transforms/checks/builtin_checks.hpp"
#include "transforms/step.hpp"

namespace sluice::transforms {
namespace {

/// A table check: SQL over the output (`{relation}` placeholder) giving one row with `failed`
/// (rows failing) and `detail` (a sentence, may be NULL when nothing fails).
class QueryCheck : public Check {
 public:
  QueryCheck(std::string name, std::string sql_template)
      : name_(std::move(name)), sql_template_(std::move(sql_template)) {}
  std::string Name() const override { return name_; }
  Result<CheckResult> Evaluate(CheckContext& context) const override {
    CheckResult result;
    result.check = name_;
    result.table = context.table;
    result.severity = severity;
    std::string sql = sql_template_;
    for (size_t at = sql.find("{relation}"); at != std::string::npos; at = sql.find("{relation}")) {
      sql.replace(at, 10, context.relation);
    }
    for (size_t at = sql.find("{now}"); at != std::string::npos; at = sql.find("{now}")) {
      std::string now = FormatTimestampUtc(context.now);
      now[10] = ' ';
      now.pop_back();
      sql.replace(at, 5, fmt::format("TIMESTAMP '{}'", now));
    }
    SLUICE_ASSIGN_OR_RETURN(auto rows, context.connection.Query(sql));
    result.failed_rows = rows.GetInt(0, "failed");
    result.passed = result.failed_rows == 0;
    if (!result.passed) result.detail = rows.Get(0, "detail");
    return result;
  }

 private:
  std::string name_, sql_template_;
};

Result<int64_t> OptionalInt(const config::Value& options, const char* key, int64_t fallback) {
  const auto* v = options.Find(key);
  if (v == nullptr) return fallback;
  return v->AsInt();
}

}  // namespace

CheckDescriptor UniqueCheckDescriptor() {
  return {"unique",
          "no two rows share the values of these columns (together)",
          {{"columns", config::OptionType::kStringList, "", true, false, "one or more columns forming the key"}},
          [](const config::Value& options, const std::string& where) -> Result<std::unique_ptr<Check>> {
            SLUICE_ASSIGN_OR_RETURN(auto columns, CheckColumns(options, where));
            std::vector<std::string> idents;
            for (const auto& c : columns) idents.push_back(SqlIdent(c));
            std::string key = Join(idents, ", ");
            return MakeCheck<QueryCheck>(
                fmt::format("unique({})", Join(columns, ", ")),
                fmt::format("SELECT coalesce(sum(n), 0) AS failed, count(*) || ' values of ({}) occur more than once' "
                            "AS detail FROM (SELECT count(*) AS n FROM {{relation}} GROUP BY {} HAVING count(*) > 1)",
                            Join(columns, ", "), key));
          }};
}

CheckDescriptor RowCountCheckDescriptor() {
  return {"row_count",
          "the output has between min and max rows",
          {{"min", config::OptionType::kInt, "0", false, false, "fewest rows accepted"},
           {"max", config::OptionType::kInt, "", false, false, "most rows accepted"}},
          [](const config::Value& options, const std::string& where) -> Result<std::unique_ptr<Check>> {
            SLUICE_TRY(ValidateStepOptions(options, RowCountCheckDescriptor().options, where));
            SLUICE_ASSIGN_OR_RETURN(auto min, OptionalInt(options, "min", 0));
            SLUICE_ASSIGN_OR_RETURN(auto max, OptionalInt(options, "max", -1));
            std::string bound = max < 0 ? fmt::format("at least {}", min) : fmt::format("between {} and {}", min, max);
            std::string outside = max < 0 ? fmt::format("n < {}", min) : fmt::format("n < {} OR n > {}", min, max);
            return MakeCheck<QueryCheck>(
                fmt::format("row_count({})", bound),
                fmt::format("SELECT CASE WHEN {} THEN 1 ELSE 0 END AS failed, 'the output has ' || n || ' rows, "
                            "expected {}' AS detail FROM (SELECT count(*) AS n FROM {{relation}})",
                            outside, bound));
          }};
}

CheckDescriptor FreshnessCheckDescriptor() {
  return {"freshness",
          "the newest value of a timestamp column is at most max_age old",
          {{"column", config::OptionType::kString, "", true, false, "timestamp (or date) column"},
           {"max_age", config::OptionType::kDuration, "", true, false, "e.g. 1h, 2 days"}},
          [](const config::Value& options, const std::string& where) -> Result<std::unique_ptr<Check>> {
            SLUICE_TRY(ValidateStepOptions(options, FreshnessCheckDescriptor().options, where));
            std::string column = options.Find("column")->scalar();
            SLUICE_ASSIGN_OR_RETURN(auto max_age, options.Find("max_age")->AsDuration());
            return MakeCheck<QueryCheck>(
                fmt::format("freshness({}, {})", column, options.Find("max_age")->scalar()),
                fmt::format("SELECT CASE WHEN newest IS NULL OR newest < {{now}} - to_microseconds({}) THEN 1 "
                            "ELSE 0 END AS failed, 'newest {} is ' || coalesce(CAST(newest AS VARCHAR), 'missing') || "
                            "', older than {}' AS detail FROM (SELECT CAST(max({}) AS TIMESTAMP) AS newest FROM "
                            "{{relation}})",
                            max_age.count(), column, options.Find("max_age")->scalar(), SqlIdent(column)));
          }};
}

CheckDescriptor ForeignKeyCheckDescriptor() {
  return {"foreign_key",
          "every non-NULL value of column exists in references (a catalog table's column)",
          {{"column", config::OptionType::kString, "", true, false, "column of the output"},
           {"references", config::OptionType::kString, "", true, false,
            "zone.table(column) of another catalog table, e.g. silver.countries(code)"}},
          [](const config::Value& options, const std::string& where) -> Result<std::unique_ptr<Check>> {
            SLUICE_TRY(ValidateStepOptions(options, ForeignKeyCheckDescriptor().options, where));
            std::string column = options.Find("column")->scalar();
            std::string references = options.Find("references")->scalar();
            size_t open = references.find('('), dot = references.find('.');
            if (open == std::string::npos || references.back() != ')' || dot == std::string::npos || dot > open) {
              return Status::Invalid("{}: references '{}' of {} must look like zone.table(column)",
                                     options.Find("references")->location().ToString(), references, where);
            }
            std::string zone = references.substr(0, dot), table = references.substr(dot + 1, open - dot - 1);
            std::string ref_column = references.substr(open + 1, references.size() - open - 2);
            return MakeCheck<QueryCheck>(
                fmt::format("foreign_key({} -> {})", column, references),
                fmt::format("SELECT count(*) AS failed, count(*) || ' rows have a {} missing from {}' AS detail FROM "
                            "{{relation}} AS o WHERE o.{} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {}.{} AS r WHERE "
                            "r.{} = o.{})",
                            column, references, SqlIdent(column), SqlIdent(zone), SqlIdent(table), SqlIdent(ref_column),
                            SqlIdent(column)));
          }};
}

CheckDescriptor SqlCheckDescriptor() {
  return {"sql",
          "a query returning the failing rows; the output is the relation `output`, other tables by zone.table",
          {},
          [](const config::Value& options, const std::string& where) -> Result<std::unique_ptr<Check>> {
            if (!options.IsScalar() || Trim(options.scalar()).empty()) {
              return Status::Invalid("{}: {} needs a query, e.g. sql: \"SELECT * FROM output WHERE a > b\"",
                                     options.location().ToString(), where);
            }
            std::string query = options.scalar();
            while (!query.empty() && (query.back() == ';' || std::isspace(static_cast<unsigned char>(query.back())))) {
              query.pop_back();
            }
            return MakeCheck<QueryCheck>(
                fmt::format("sql({})", Trim(Split(query, '\n').front())),
                fmt::format("WITH output AS (SELECT * FROM {{relation}}) SELECT count(*) AS failed, count(*) || "
                            "' rows returned by the assertion query' AS detail FROM ({}) AS failing",
                            query));
          }};
}

}  // namespace sluice::transforms
