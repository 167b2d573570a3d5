#pragma once

#include "transforms/check.hpp"

namespace sluice::transforms {

// Row checks (checks/row_checks.cpp): each failing row is named by a predicate, so it can be quarantined.
CheckDescriptor NotNullCheckDescriptor();
CheckDescriptor AcceptedValuesCheckDescriptor();
CheckDescriptor RangeCheckDescriptor();
CheckDescriptor RegexCheckDescriptor();
CheckDescriptor ExpressionCheckDescriptor();

// Table checks (checks/table_checks.cpp).
CheckDescriptor UniqueCheckDescriptor();
CheckDescriptor RowCountCheckDescriptor();
CheckDescriptor FreshnessCheckDescriptor();
CheckDescriptor ForeignKeyCheckDescriptor();
CheckDescriptor SqlCheckDescriptor();

}  // namespace sluice::transforms
