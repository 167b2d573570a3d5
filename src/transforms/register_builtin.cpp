#include "transforms/check.hpp"
#include "transforms/checks/builtin_checks.hpp"
#include "transforms/step.hpp"
#include "transforms/steps/add_columns/add_columns_step.hpp"
#include "transforms/steps/clean/clean_step.hpp"
#include "transforms/steps/mask/mask_step.hpp"
#include "transforms/steps/merge/merge_step.hpp"
#include "transforms/steps/repartition/repartition_step.hpp"
#include "transforms/steps/sql/sql_step.hpp"

namespace sluice::transforms {

// One line per step plug-in; tests/unit/transforms asserts the full list.
void RegisterBuiltinSteps(StepRegistry& registry) {
  (void)registry.Register(CleanStepDescriptor());
  (void)registry.Register(AddColumnsStepDescriptor());
  (void)registry.Register(MaskStepDescriptor());
  (void)registry.Register(SqlStepDescriptor());
  (void)registry.Register(RepartitionStepDescriptor());
  (void)registry.Register(MergeStepDescriptor());
}

// One line per check plug-in; tests/unit/transforms asserts the full list.
void RegisterBuiltinChecks(CheckRegistry& registry) {
  (void)registry.Register(NotNullCheckDescriptor());
  (void)registry.Register(UniqueCheckDescriptor());
  (void)registry.Register(AcceptedValuesCheckDescriptor());
  (void)registry.Register(RangeCheckDescriptor());
  (void)registry.Register(RegexCheckDescriptor());
  (void)registry.Register(RowCountCheckDescriptor());
  (void)registry.Register(FreshnessCheckDescriptor());
  (void)registry.Register(ForeignKeyCheckDescriptor());
  (void)registry.Register(ExpressionCheckDescriptor());
  (void)registry.Register(SqlCheckDescriptor());
}

}  // namespace sluice::transforms
