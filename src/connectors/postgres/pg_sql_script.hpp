#pragma once

#include "connectors/sql_script.hpp"

namespace sluice::postgres {

/// SQL jobs on a `type: postgres` connection: the script runs statement by statement inside one
/// BEGIN … COMMIT; a timeout or cancellation cancels the running statement on the server (PQcancel).
connectors::SqlScriptDescriptor PostgresSqlScriptDescriptor();

}  // namespace sluice::postgres
