#include "catalog/sqlite_migrations.hpp"

#include <iterator>

#include "catalog/sqlite_metadata_store.hpp"

namespace sluice::catalog {
namespace {

/// Migration N brings a catalog from schema version N-1 to N. Append new steps; never edit a released one.
/// The SQL avoids SQLite-only features (except INTEGER PRIMARY KEY row ids) so the PostgreSQL store can
/// mirror it: BIGINT/TEXT columns, JSON kept as TEXT, times as microseconds since the Unix epoch.
const char* const kMigrations[] = {
    // 1: initial layout.
    R"sql(
CREATE TABLE lake_tables (
  table_id          INTEGER PRIMARY KEY,
  zone              TEXT NOT NULL,
  table_name        TEXT NOT NULL,
  location          TEXT NOT NULL,
  source            TEXT NOT NULL,
  partition_columns TEXT NOT NULL,
  current_version   BIGINT NOT NULL,
  schema_id         BIGINT NOT NULL,
  created_at_us     BIGINT NOT NULL,
  updated_at_us     BIGINT NOT NULL,
  row_count         BIGINT NOT NULL,
  file_count        BIGINT NOT NULL,
  total_bytes       BIGINT NOT NULL,
  UNIQUE (zone, table_name)
);
CREATE TABLE table_schemas (
  table_id      BIGINT NOT NULL REFERENCES lake_tables (table_id),
  schema_id     BIGINT NOT NULL,
  columns_json  TEXT NOT NULL,
  first_version BIGINT NOT NULL,
  PRIMARY KEY (table_id, schema_id)
);
CREATE TABLE table_versions (
  table_id        BIGINT NOT NULL REFERENCES lake_tables (table_id),
  version         BIGINT NOT NULL,
  committed_at_us BIGINT NOT NULL,
  run_id          TEXT NOT NULL,
  pipeline        TEXT NOT NULL,
  job_name        TEXT NOT NULL,
  operation       TEXT NOT NULL,
  files_added     BIGINT NOT NULL,
  files_removed   BIGINT NOT NULL,
  rows_added      BIGINT NOT NULL,
  rows_removed    BIGINT NOT NULL,
  schema_id       BIGINT NOT NULL,
  schema_change   TEXT NOT NULL,
  PRIMARY KEY (table_id, version)
);
CREATE INDEX table_versions_by_time ON table_versions (table_id, committed_at_us);
CREATE TABLE data_files (
  file_id          INTEGER PRIMARY KEY,
  table_id         BIGINT NOT NULL REFERENCES lake_tables (table_id),
  path             TEXT NOT NULL,
  row_count        BIGINT NOT NULL,
  byte_count       BIGINT NOT NULL,
  partition_values TEXT NOT NULL,
  version_added    BIGINT NOT NULL,
  version_removed  BIGINT
);
CREATE INDEX data_files_by_version ON data_files (table_id, version_removed, version_added);
CREATE INDEX data_files_by_path ON data_files (table_id, path);
CREATE INDEX data_files_by_name ON data_files (path);
CREATE TABLE job_state (
  scope         TEXT NOT NULL,
  state_key     TEXT NOT NULL,
  state_value   TEXT NOT NULL,
  updated_at_us BIGINT NOT NULL,
  PRIMARY KEY (scope, state_key)
);
CREATE TABLE loaded_files (
  scope        TEXT NOT NULL,
  path         TEXT NOT NULL,
  size_bytes   BIGINT NOT NULL,
  mtime_us     BIGINT NOT NULL,
  content_hash TEXT NOT NULL,
  loaded_at_us BIGINT NOT NULL,
  run_id       TEXT NOT NULL,
  PRIMARY KEY (scope, path)
);
CREATE TABLE runs (
  run_id         TEXT PRIMARY KEY,
  pipeline       TEXT NOT NULL,
  job_name       TEXT NOT NULL,
  env            TEXT NOT NULL,
  trigger_kind   TEXT NOT NULL,
  status         TEXT NOT NULL,
  started_at_us  BIGINT NOT NULL,
  finished_at_us BIGINT,
  rows_read      BIGINT NOT NULL,
  rows_written   BIGINT NOT NULL,
  rows_rejected  BIGINT NOT NULL,
  bytes_written  BIGINT NOT NULL,
  files_written  BIGINT NOT NULL,
  error_message  TEXT NOT NULL,
  details_json   TEXT NOT NULL
);
CREATE INDEX runs_by_start ON runs (started_at_us);
CREATE INDEX runs_by_pipeline ON runs (pipeline, started_at_us);
)sql",
    // 2: the run queue and trigger memory of `sluice serve`.
    R"sql(
CREATE TABLE run_queue (
  queue_id       TEXT PRIMARY KEY,
  pipeline       TEXT NOT NULL,
  trigger_kind   TEXT NOT NULL,
  dedup_key      TEXT NOT NULL,
  detail         TEXT NOT NULL,
  enqueued_at_us BIGINT NOT NULL,
  not_before_us  BIGINT NOT NULL,
  attempt        BIGINT NOT NULL,
  queue_state    TEXT NOT NULL
);
CREATE UNIQUE INDEX run_queue_by_dedup_key ON run_queue (pipeline, dedup_key) WHERE dedup_key <> '';
CREATE INDEX run_queue_by_state ON run_queue (queue_state, not_before_us);
CREATE TABLE trigger_state (
  pipeline      TEXT NOT NULL,
  trigger_key   TEXT NOT NULL,
  state_value   TEXT NOT NULL,
  updated_at_us BIGINT NOT NULL,
  PRIMARY KEY (pipeline, trigger_key)
);
)sql",
    // 3: window jobs managed with `sluice jobs` (the current window stays in job_state).
    R"sql(
CREATE TABLE jobs (
  pipeline       TEXT NOT NULL,
  job_name       TEXT NOT NULL,
  source_table   TEXT NOT NULL,
  target_table   TEXT NOT NULL,
  window_column  TEXT NOT NULL,
  first_start    TEXT NOT NULL,
  first_stop     TEXT NOT NULL,
  window_step    TEXT NOT NULL,
  partition_by   TEXT NOT NULL,
  lower_bound    BIGINT,
  upper_bound    BIGINT,
  num_partitions BIGINT,
  created_at_us  BIGINT NOT NULL,
  updated_at_us  BIGINT NOT NULL,
  PRIMARY KEY (pipeline, job_name)
);
)sql",
    // 4: the run options a queued run carries (the API's full refresh and single job).
    R"sql(
ALTER TABLE run_queue ADD COLUMN full_refresh INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_queue ADD COLUMN only_job TEXT NOT NULL DEFAULT '';
)sql",
    // 5: column field ids (the highest given per table), per-file column statistics, and the Iceberg JDBC
    // catalog's table, so engines configured with a JDBC catalog on this store find each table's metadata.
    R"sql(
ALTER TABLE lake_tables ADD COLUMN last_column_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE data_files ADD COLUMN column_stats TEXT NOT NULL DEFAULT '';
CREATE TABLE iceberg_tables (
  catalog_name               VARCHAR(255) NOT NULL,
  table_namespace            VARCHAR(255) NOT NULL,
  table_name                 VARCHAR(255) NOT NULL,
  metadata_location          VARCHAR(1000),
  previous_metadata_location VARCHAR(1000),
  PRIMARY KEY (catalog_name, table_namespace, table_name)
);
)sql",
};
constexpr int64_t kMigrationCount = static_cast<int64_t>(std::size(kMigrations));
static_assert(kMigrationCount == SqliteMetadataStore::kSchemaVersion, "one migration per schema version");

}  // namespace

std::span<const char* const> CatalogMigrations() { return kMigrations; }

}  // namespace sluice::catalog
