#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "connectors/postgres/pg_client.hpp"
#include "connectors/postgres/pg_types.hpp"
#include "connectors/source.hpp"
#include "connectors/sources/postgres/postgres_options.hpp"
#include "connectors/window_state.hpp"
#include "engine/engine.hpp"

namespace sluice::connectors::pg_source {

/// What the cursor column holds decides how the watermark is compared and how lookback applies.
enum class CursorKind { kInteger, kDate, kTimestamp, kTimestampTz };

/// The PostgreSQL type a watermark literal is cast to.
const char* PgTypeOf(CursorKind kind);
std::optional<CursorKind> CursorKindOf(const postgres::PgColumn& column);

/// What the source keeps in its checkpoint.
struct SourceState {
  std::optional<std::string> watermark;
  std::string cursor;
  WindowState window;  // mode: window: the window the next run reads, and the windows read so far
};

std::string StateJson(const SourceState& state);

const postgres::PgColumn* FindColumn(const std::vector<postgres::PgColumn>& columns, std::string_view name);
/// The text of a PostgreSQL array ({"a","b\\c"}) of column `column` of `rows`.
std::string ArrayText(const std::vector<engine::TextRow>& rows, size_t column);
/// Whether a table's primary key or a unique index over NOT NULL columns is exactly `key`.
Result<bool> KeyIsUnique(postgres::PgClient& pg, const std::string& schema, const std::string& table,
                         std::vector<std::string> key);

/// mode: full: chunks in key order that an interrupted load resumes from, and connections that
/// read side by side.
struct FullPlan {
  // The integer key the chunks are ranges of, the last key read so far ("" before the first
  // chunk), what the resume token must match, and whether this run resumes; no chunks when
  // chunk_key is "".
  std::string chunk_key, chunk_after, chunk_identity;
  bool resumed = false;
  int64_t chunk_rows = 0;  // batch_rows, per connection when streamed over several
  // Streamed: read side by side by stream_clients (with ReadPlan::client) in the snapshot it
  // exported: the whole table by ranges of physical blocks (stream_sqls), or each chunk by
  // ranges of the chunk key.
  std::vector<std::unique_ptr<postgres::PgClient>> stream_clients;
  std::vector<std::string> stream_sqls;
};

/// mode: window: one query per partition, each on its own connection (partition_clients follow
/// ReadPlan::client), all inside the snapshot the first one exported; the window this run reads
/// and the next one.
struct WindowPlan {
  std::vector<std::string> partition_sqls;
  std::vector<std::unique_ptr<postgres::PgClient>> partition_clients;
  std::string start, stop, next_start, next_stop, run_id;
};

/// What Open() found out before reading: the connections, the columns, the queries of the mode.
struct ReadPlan {
  std::unique_ptr<postgres::PgClient> client;
  std::vector<postgres::PgColumn> columns;
  std::string read_sql;
  std::string snapshot;  // RunContext::snapshot: every connection reads in it (its transaction is open)
  bool nothing_to_read = false;
  uint64_t pending_bytes = 0;
  std::string summary;
  std::optional<CursorKind> cursor_kind;  // incremental only
  SourceState state;
  // mode: full or window read once by the pipeline (RunContext::single_scan): each part is a
  // RowStream that DuckDB reads while it writes the part, with no table in between.
  bool stream_parts = false;
  FullPlan full;
  WindowPlan window;
};

/// Connects (in the run's snapshot when it has one), describes the columns and plans the read of
/// the load mode: the watermark's lower bound, the window and its partitions, the chunks a full
/// load resumes from, the connections reading side by side.
Result<ReadPlan> PlanRead(const PostgresOptions& options, const Checkpoint& checkpoint, const RunContext& context);

}  // namespace sluice::connectors::pg_source
