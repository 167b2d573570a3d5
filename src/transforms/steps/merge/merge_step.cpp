#include "transforms/steps/merge/merge_step.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/strings.hpp"
#include "config/option_reader.hpp"

namespace sluice::transforms {
namespace {

struct MergeConfig {
  std::vector<std::string> key;
  std::string order_by;  // latest change per key wins; "" = any
  bool scd2 = false;
};

/// The whole new state of the target: the target's current rows (view `target_current`) with the
/// input applied. The job then replaces the table with it in one commit (write becomes overwrite).
class MergeStep : public Step {
 public:
  explicit MergeStep(MergeConfig config) : config_(std::move(config)) {}

  Result<std::string> Rewrite(StepContext& context, const std::string& input) override {
    SLUICE_ASSIGN_OR_RETURN(auto columns, context.connection.Describe("SELECT * FROM " + input));
    bool has_change_type = false;
    std::vector<std::string> compared;
    for (const auto& c : columns) {
      if (c.name == "_change_type") has_change_type = true;
      bool is_key = std::find(config_.key.begin(), config_.key.end(), c.name) != config_.key.end();
      if (!is_key && !StartsWith(c.name, "_")) compared.push_back(c.name);
    }
    for (const auto& k : config_.key) {
      bool found = false;
      for (const auto& c : columns) found |= c.name == k;
      if (!found) {
        return Status::Invalid("merge into {}: key column '{}' is not a column of the input", context.target_table, k);
      }
    }
    std::vector<std::string> key_idents, key_match;
    for (const auto& k : config_.key) {
      key_idents.push_back(SqlIdent(k));
      key_match.push_back(fmt::format("i.{0} = t.{0}", SqlIdent(k)));
    }
    std::string incoming =
        fmt::format("SELECT * FROM {} QUALIFY row_number() OVER (PARTITION BY {} ORDER BY {} DESC NULLS LAST) = 1",
                    input, Join(key_idents, ", "), config_.order_by.empty() ? "1" : SqlIdent(config_.order_by));
    std::string is_delete = has_change_type ? "coalesce(i._change_type, '') = 'delete'" : "false";
    std::string drop = has_change_type ? " EXCLUDE (_change_type)" : "";
    std::string matches = fmt::format("EXISTS (SELECT 1 FROM incoming AS i WHERE {})", Join(key_match, " AND "));
    std::string now = SqlTimestampLiteral(context.now);

    if (!config_.scd2) {
      std::string fresh = fmt::format("SELECT i.*{} FROM incoming AS i WHERE NOT ({})", drop, is_delete);
      if (!context.target_exists) return fmt::format("WITH incoming AS ({}) {}", incoming, fresh);
      return fmt::format("WITH incoming AS ({}) {} UNION ALL BY NAME SELECT t.* FROM target_current AS t WHERE NOT {}",
                         incoming, fresh, matches);
    }
    std::vector<std::string> differs;
    for (const auto& c : compared) differs.push_back(fmt::format("i.{0} IS DISTINCT FROM t.{0}", SqlIdent(c)));
    std::string changed =
        fmt::format("EXISTS (SELECT 1 FROM incoming AS i WHERE {} AND ({} OR {}))", Join(key_match, " AND "), is_delete,
                    differs.empty() ? "false" : Join(differs, " OR "));
    std::string unchanged_current =
        fmt::format("EXISTS (SELECT 1 FROM target_current AS t WHERE t.is_current AND {} AND NOT ({}))",
                    Join(key_match, " AND "), differs.empty() ? "false" : Join(differs, " OR "));
    std::string opened = fmt::format(
        "SELECT i.*{}, {} AS valid_from, CAST(NULL AS TIMESTAMP) AS valid_to, true AS is_current FROM incoming AS i "
        "WHERE NOT ({})",
        drop, now, is_delete);
    if (!context.target_exists) return fmt::format("WITH incoming AS ({}) {}", incoming, opened);
    return fmt::format(
        "WITH incoming AS ({0}) {1} AND NOT {2} "
        "UNION ALL BY NAME SELECT t.* REPLACE ({3} AS valid_to, false AS is_current) FROM target_current AS t "
        "WHERE t.is_current AND {4} "
        "UNION ALL BY NAME SELECT t.* FROM target_current AS t WHERE NOT (t.is_current AND {4})",
        incoming, opened, unchanged_current, now, changed);
  }

  void AdjustWrite(WritePlan* plan) const override { plan->write = config::WriteMode::kOverwrite; }

 private:
  MergeConfig config_;
};

}  // namespace

StepDescriptor MergeStepDescriptor() {
  return {"merge",
          "apply the input to the target's current rows by key: upsert (rows with _change_type = 'delete' are "
          "removed) or scd2 (history with valid_from, valid_to, is_current); the table is rewritten in one commit",
          {{"key", config::OptionType::kStringList, "", true, false, "primary key columns"},
           {"order_by", config::OptionType::kString, "", false, false,
            "when the input has several rows per key, the one with the highest value wins"},
           {"mode", config::OptionType::kString, "upsert", false, false, "upsert | scd2"}},
          [](const config::Value& options, const std::string& where) -> Result<std::unique_ptr<Step>> {
            const std::vector<config::OptionSpec> specs = MergeStepDescriptor().options;
            SLUICE_TRY(ValidateStepOptions(options, specs, where));
            config::OptionReader keys(options, specs);
            MergeConfig config;
            SLUICE_ASSIGN_OR_RETURN(config.key, options.Find("key")->AsStringList());
            SLUICE_ASSIGN_OR_RETURN(config.order_by, keys.String("order_by"));
            SLUICE_ASSIGN_OR_RETURN(auto mode, keys.String("mode"));
            if (mode != "upsert" && mode != "scd2") {
              return Status::Invalid("{}: mode '{}' of {} is not one of upsert, scd2",
                                     options.Find("mode")->location().ToString(), mode, where);
            }
            config.scd2 = mode == "scd2";
            if (config.key.empty())
              return Status::Invalid("{}: {} needs key: [columns]", options.location().ToString(), where);
            return MakeStep<MergeStep>(std::move(config));
          }};
}

}  // namespace sluice::transforms
