#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/registry.hpp"
#include "common/secret.hpp"
#include "common/status.hpp"
#include "config/job_modes.hpp"
#include "config/options.hpp"
#include "config/value.hpp"
#include "engine/engine.hpp"

namespace sluice::transforms {

/// What a step may look at while rewriting: the connection holding the job's relations (inputs are
/// bound by name, e.g. raw.indicators, and the target's current rows as the view `target_current`
/// when the target exists), and the run's identity.
struct StepContext {
  engine::Connection& connection;
  RunId run_id;
  TimePoint now;
  std::string target_table;  // zone.table, for messages
  bool target_exists = false;
  Secret mask_key;  // masking.key of sluice.yaml, for the mask step's keyed hashes
};

/// How the job writes its result; steps such as repartition and merge adjust it.
struct WritePlan {
  std::vector<std::string> partition_by;
  std::optional<uint64_t> target_file_bytes;
  config::WriteMode write = config::WriteMode::kAppend;  // a merge step makes it kOverwrite
};

/// Rows a step sets aside instead of failing the run (clean's coercion policy `reject`): a SELECT
/// over the step's input with a `_reject_reason` column.
struct StepRejects {
  std::string select_sql;
};

/// A transform is a SQL rewrite of the previous relation: it returns a SELECT over `input` that
/// DuckDB runs lazily, so a chain of steps streams into the final COPY without materializing.
class Step {
 public:
  virtual ~Step() = default;
  virtual Result<std::string> Rewrite(StepContext& context, const std::string& input) = 0;
  /// Rows of `input` this step drops as unfit (empty: none).
  virtual Result<std::optional<StepRejects>> Rejects(StepContext& context, const std::string& input) {
    (void)context;
    (void)input;
    return std::optional<StepRejects>{};
  }
  virtual void AdjustWrite(WritePlan* plan) const { (void)plan; }
};

/// A step plug-in. `options` documents (and, for map-valued steps, validates) the keys; `create`
/// receives the value under the step's name (`- clean: {...}` gives the map, `- sql: "..."` the string).
struct StepDescriptor {
  std::string name;
  std::string description;
  std::vector<config::OptionSpec> options;
  std::function<Result<std::unique_ptr<Step>>(const config::Value& options, const std::string& where)> create;
};

using StepRegistry = PluginRegistry<StepDescriptor, &StepDescriptor::name>;

/// A step plug-in's factory result: `return MakeStep<CleanStep>(config);`.
template <typename T, typename... Args>
Result<std::unique_ptr<Step>> MakeStep(Args&&... args) {
  return std::unique_ptr<Step>(std::make_unique<T>(std::forward<Args>(args)...));
}

/// Every built-in step: one line per plug-in in register_builtin.cpp.
void RegisterBuiltinSteps(StepRegistry& registry);

/// Builds the steps of a job's `steps:` list (each item a one-key map `name: options`). All errors
/// come back together, with file:line and the nearest step name.
Result<std::vector<std::unique_ptr<Step>>> BuildSteps(const StepRegistry& registry, const config::Value& steps,
                                                      const std::string& owner);

/// Validates a map-valued step option block against its descriptor, as one Status.
Status ValidateStepOptions(const config::Value& options, const std::vector<config::OptionSpec>& specs,
                           const std::string& where);

/// Snake-case column name: "Country Name" -> country_name, "GDPPerCapita" -> gdp_per_capita.
std::string SnakeCase(std::string_view name);

/// DuckDB type for a user's type word: integer, bigint, double, text/string, date, timestamp,
/// boolean, decimal(p,s) ... (unknown words pass through for DuckDB to judge).
std::string DuckDbType(std::string_view word);

}  // namespace sluice::transforms
