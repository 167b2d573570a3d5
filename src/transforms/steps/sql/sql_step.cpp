#include "transforms/steps/sql/sql_step.hpp"

#include <fmt/format.h>

#include <cctype>

#include "common/strings.hpp"

namespace sluice::transforms {
namespace {

class SqlStep : public Step {
 public:
  explicit SqlStep(std::string query) : query_(std::move(query)) {}

  Result<std::string> Rewrite(StepContext& context, const std::string& input) override {
    (void)context;
    // `input` is the previous step's rows; an outer CTE is visible inside the user's query, even
    // when that query has its own WITH.
    return fmt::format("WITH input AS (SELECT * FROM {}) SELECT * FROM ({}) AS sql_step", input, query_);
  }

 private:
  std::string query_;
};

}  // namespace

StepDescriptor SqlStepDescriptor() {
  return {"sql",
          "any DuckDB SELECT; `input` is the previous step's rows (at first the job's input), catalog tables are "
          "zone.table",
          {{"query", config::OptionType::kString, "", true, false, "the SELECT (or give the text directly: sql: ...)"}},
          [](const config::Value& options, const std::string& where) -> Result<std::unique_ptr<Step>> {
            std::string query;
            if (options.IsScalar()) {
              query = options.scalar();
            } else if (options.IsMap()) {
              SLUICE_TRY(ValidateStepOptions(options, SqlStepDescriptor().options, where));
              query = options.Find("query")->scalar();
            }
            while (!query.empty() && (query.back() == ';' || std::isspace(static_cast<unsigned char>(query.back())))) {
              query.pop_back();
            }
            if (Trim(query).empty()) {
              return Status::Invalid(
                  "{}: {} needs a query, e.g. sql: \"SELECT country, sum(value) FROM input GROUP "
                  "BY country\"",
                  options.location().ToString(), where);
            }
            return MakeStep<SqlStep>(std::move(query));
          }};
}

}  // namespace sluice::transforms
