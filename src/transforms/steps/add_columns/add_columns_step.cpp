#include "transforms/steps/add_columns/add_columns_step.hpp"

#include <fmt/format.h>

#include "common/strings.hpp"

namespace sluice::transforms {
namespace {

class AddColumnsStep : public Step {
 public:
  explicit AddColumnsStep(std::vector<std::pair<std::string, std::string>> columns) : columns_(std::move(columns)) {}

  Result<std::string> Rewrite(StepContext& context, const std::string& input) override {
    SLUICE_ASSIGN_OR_RETURN(auto existing, context.connection.Describe("SELECT * FROM " + input));
    std::vector<std::string> replaced, added;
    for (const auto& [name, value] : columns_) {
      std::string expression = Expression(context, name, value);
      bool exists = false;
      for (const auto& c : existing) exists |= c.name == name;
      (exists ? replaced : added).push_back(fmt::format("{} AS {}", expression, SqlIdent(name)));
    }
    return fmt::format("SELECT *{}{} FROM {}",
                       replaced.empty() ? "" : fmt::format(" REPLACE ({})", Join(replaced, ", ")),
                       added.empty() ? "" : ", " + Join(added, ", "), input);
  }

 private:
  /// The well-known names take `true` for their usual meaning; any other value is a SQL expression.
  static std::string Expression(const StepContext& context, const std::string& name, const std::string& value) {
    bool standard = value == "true";
    if (name == "etl_timestamp" && standard) return SqlTimestampLiteral(context.now);
    if (name == "run_id" && standard) return SqlQuote(context.run_id.value);
    if (name == "source_filename" && standard) return "_source_file";
    if (name == "event_date") return fmt::format("CAST(({}) AS DATE)", value);
    return value;
  }

  std::vector<std::pair<std::string, std::string>> columns_;
};

}  // namespace

StepDescriptor AddColumnsStepDescriptor() {
  return {"add_columns",
          "add (or replace) columns: name: SQL expression. Shorthands: etl_timestamp: true (the run's time), "
          "run_id: true, source_filename: true (_source_file), event_date: COLUMN (cast to DATE)",
          {},
          [](const config::Value& options, const std::string& where) -> Result<std::unique_ptr<Step>> {
            if (!options.IsMap() || options.entries().empty()) {
              return Status::Invalid("{}: {} needs a map of column: expression, e.g. {{etl_timestamp: now()}}",
                                     options.location().ToString(), where);
            }
            std::vector<std::pair<std::string, std::string>> columns;
            for (const auto& [name, value] : options.entries()) {
              if (!value.IsScalar() || Trim(value.scalar()).empty()) {
                return Status::Invalid("{}: column '{}' of {} needs a SQL expression", value.location().ToString(),
                                       name, where);
              }
              columns.emplace_back(name, value.scalar());
            }
            return MakeStep<AddColumnsStep>(std::move(columns));
          }};
}

}  // namespace sluice::transforms
