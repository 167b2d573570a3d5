#include "config/pipeline.hpp"

namespace sluice::config {

const std::vector<OptionSpec>& JobKeys() {
  static const std::vector<OptionSpec> kKeys = {
      {"name", OptionType::kString, "", false, false,
       "name of the job; under a jobs: map the key is the name, in a jobs: list each job needs one"},
      {"description", OptionType::kString, "", false, false, "free text shown in `sluice validate` and the UI"},
      {"source", OptionType::kMap, "", false, false,
       "what to read: type: NAME (a connector such as files, http, postgres), connection: NAME (a connection of "
       "sluice.yaml) or table: zone.name (a lake table); the other keys belong to the connector "
       "(docs/connectors/); every job but a sql: job needs one"},
      {"mode", OptionType::kString, "full", false, false,
       "full (everything each run) | incremental (new rows/files since the last run) | window (the stored "
       "window, then the next) | changes (changed rows of a table) | cdc (the database's change log)"},
      {"primary_key", OptionType::kStringList, "", false, false,
       "columns identifying a row; needed by changes, cdc, deletes: mark and write: merge"},
      {"deletes", OptionType::kString, "ignore", false, false,
       "ignore | mark (rows deleted at the source are loaded with _change_type = delete) | apply (write: merge into a "
       "database: rows with _change_type = delete delete the target's row)"},
      {"on_error", OptionType::kString, "fail", false, false,
       "fail | quarantine (bad rows go to the table TABLE__rejects of the same zone and the run continues)"},
      {"window", OptionType::kMap, "", false, false,
       "for mode: window: column, start, stop, step (the window moves on by step after each successful run)"},
      {"partitioning", OptionType::kMap, "", false, false,
       "parallel reads inside one snapshot: column, lower_bound, upper_bound, num_partitions"},
      {"mask", OptionType::kMap, "", false, false,
       "column: hash | redact; also writes a masked copy of the table with these columns protected"},
      {"steps", OptionType::kList, "", false, false,
       "transforms applied in order, e.g. - clean: {...}, - add_columns: {...}, - sql: ..."},
      {"checks", OptionType::kList, "", false, false,
       "data quality checks run before the commit, e.g. - not_null: [a, b], - unique: [id]"},
      {"schema", OptionType::kAny, "", false, false, "expected columns and types of the result"},
      {"target", OptionType::kMap, "", false, false,
       "where the result goes: zone, table, ... (keys below) for the lake; connection: (a database) or type: (files) "
       "for a sink outside it; every job but a sql: job needs one"},
      {"sql", OptionType::kMap, "", false, false,
       "instead of source: and target:, run SQL on a database in one transaction: connection: NAME and file: PATH "
       "or script: \"...\" (keys below)"},
      {"depends_on", OptionType::kAny, "", false, false,
       "jobs of the same pipeline to run first: a name, a list of names, or items {job: NAME, condition: "
       "success | failure | always}; default condition success"},
      {"retries", OptionType::kInt, "0", false, false, "how often a failed run is retried (retryable errors only)"},
      {"timeout", OptionType::kDuration, "", false, false, "a run taking longer is cancelled, e.g. 30m, 2h"},
      {"cdc", OptionType::kMap, "", false, false,
       "for mode: cdc: slot, publication, commit_every, max_rows, max_bytes, heartbeat "
       "(docs/connectors/postgres-cdc.md)"},
  };
  return kKeys;
}

const std::vector<OptionSpec>& PipelineKeys() {
  static const std::vector<OptionSpec> kKeys = {
      {"name", OptionType::kString, "", false, false,
       "name of the pipeline (letters, digits, '_', '-', '.'), unique in the project; default: the file name "
       "without .yaml"},
      {"description", OptionType::kString, "", false, false, "free text shown in `sluice validate` and the UI"},
      {"triggers", OptionType::kList, "", false, false,
       "when the pipeline runs: - schedule: CRON, - file_arrival: {...}, - on_success: PIPELINE, - webhook: true, "
       "- on_demand: true"},
      {"notify", OptionType::kMap, "", false, false,
       "on_success / on_failure: lists of notification names from sluice.yaml"},
      {"jobs", OptionType::kAny, "", false, false,
       "several jobs: a map of job name -> job keys (or a list of jobs with name:)"},
      {"environments", OptionType::kMap, "", false, false,
       "overlays of this file chosen with --env NAME (the name must exist in sluice.yaml)"},
      {"tags", OptionType::kStringList, "", false, false, "labels for filtering in the CLI and UI"},
  };
  return kKeys;
}

const std::vector<OptionSpec>& TargetKeys() {
  static const std::vector<OptionSpec> kKeys = {
      {"zone", OptionType::kString, "", true, false, "raw | silver | gold"},
      {"table", OptionType::kString, "", false, false,
       "table name inside the zone (letters, digits, '_'); SQL sees it as zone.table; required except for mode: cdc, "
       "where each source table lands in the table of its name"},
      {"partition_by", OptionType::kStringList, "", false, false, "columns whose values become folders col=value/"},
      {"write", OptionType::kString, "append", false, false,
       "append | overwrite (replace the table) | overwrite_partitions (replace the partitions written) | merge "
       "(upsert by primary_key)"},
      {"file_size", OptionType::kByteSize, "", false, false, "target size of each Parquet file, e.g. 256MB"},
      {"location", OptionType::kString, "", false, false,
       "folder of the table's files relative to the lake, instead of the standard layout"},
      {"schema_evolution", OptionType::kString, "fail", false, false,
       "an incompatible column type change between runs: fail (the run fails, naming the column) | evolve (the "
       "column widens to a common type, else text) | quarantine (rows whose value does not fit the table's type go "
       "to TABLE__rejects). New columns and safe widenings (int -> bigint, float -> double, int -> decimal/double) "
       "are always applied"},
      {"add_metadata_columns", OptionType::kBool, "", false, false,
       "add _source_file, _loaded_at (and _change_type for change loads); on by default in the raw zone"},
  };
  return kKeys;
}

const std::vector<OptionSpec>& SqlJobKeys() {
  static const std::vector<OptionSpec> kKeys = {
      {"connection", OptionType::kString, "", true, false,
       "a database connection of sluice.yaml (connections: NAME with type: postgres)"},
      {"file", OptionType::kString, "", false, false,
       "a file of SQL statements separated by ';', relative to the project folder; or script:"},
      {"script", OptionType::kString, "", false, false, "the SQL statements inline, instead of file:"},
  };
  return kKeys;
}

}  // namespace sluice::config
