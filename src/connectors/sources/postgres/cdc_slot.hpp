#pragma once

// mode: cdc of the postgres source: the SQL side of slot and publication management (keys and
// replica identities, the publication, the slot's health), apart from the stream.

#include <string>
#include <vector>

#include "connectors/postgres/pg_client.hpp"
#include "connectors/sources/postgres/cdc_capture.hpp"

namespace sluice::connectors::pgcdc {

/// The server's clock now, as unix microseconds (SQL).
inline constexpr const char* kServerNowUs = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint";

/// Each table's row identity (primary key, or the replica identity index) into options->tables,
/// and warnings for tables whose updates and deletes cannot be told apart.
Status ReadTableKeys(postgres::PgClient& sql, CdcOptions* options, std::vector<std::string>* warnings);

/// Creates the publication when missing (recorded in `state`), or checks that it publishes every table.
Status EnsurePublication(postgres::PgClient& sql, const CdcOptions& o, CdcState* state);

/// The slot as the server sees it, and the lag of the committed `state`.
Result<SlotHealth> QuerySlotHealth(postgres::PgClient& sql, const CdcOptions& o, const CdcState& state);

}  // namespace sluice::connectors::pgcdc
