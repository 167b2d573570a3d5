#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "engine/engine.hpp"
#include "storage/object_store.hpp"

namespace sluice::connectors {

/// A Parquet file written to local staging, with the object key it will have in the lake.
struct StagedFile {
  std::filesystem::path local;
  std::string key;
  int64_t rows = 0;
  int64_t bytes = 0;
  std::vector<std::pair<std::string, std::string>> partition_values;
  /// Per column, as measured from the file's footer: {"col":{"values":N,"nulls":N,"min":"..","max":".."}}, with
  /// bounds in a canonical text (integers; dates as days and timestamps/times as microseconds since the epoch;
  /// decimals unscaled); bounds only for columns of a type with such a form.
  std::string column_stats;
};

/// One column's field ids as the written files carry them.
struct ColumnFieldIds {
  std::string name;
  int64_t id = 0;
  /// The table's type of the column: the nested ids are written when the rows have exactly this type.
  std::string type;
  std::vector<int64_t> nested_ids;  // depth first, in the order of engine::TypeTree
};

struct LakeWriteRequest {
  std::string select_sql;             // the rows to write
  std::filesystem::path staging_dir;  // local, private to the run; created if missing
  std::string data_prefix;            // lake key prefix, e.g. "raw/files/birds/original/incremental"
  std::vector<std::pair<std::string, std::string>> fixed_partitions;  // e.g. {{"_load_date", "2026-11-23"}}
  std::vector<std::string> partition_by;                              // columns of select_sql written as hive folders
  uint64_t target_file_bytes = 256ull << 20;  // files are about this size (partition files over it are split)
  std::string file_prefix;                    // file names: <file_prefix>-<n>.parquet
  /// The rows have no order worth keeping (a source extract, no steps): every engine thread may
  /// write, e.g. each reading its own stream of the source side by side.
  bool unordered = false;
  /// Field ids to write into the files' schema, by column name (the table's ids, see catalog::AssignFieldIds);
  /// columns of the rows not listed, and partition columns (they live in the path), get none.
  std::vector<ColumnFieldIds> field_ids;
};

/// Writes `select_sql` as zstd Parquet under the staging folder (nothing in the lake yet).
/// Returns one entry per non-empty file with its rows, bytes and partition values.
Result<std::vector<StagedFile>> WriteParquetToStaging(engine::Connection& connection, const LakeWriteRequest& request);

/// Uploads staged files to their keys (the local store moves them). Not yet visible to readers:
/// only the catalog commit that references them publishes them.
Status UploadStaged(storage::ObjectStore& store, const std::vector<StagedFile>& files);

/// Best-effort removal of uploaded objects after a failed commit; leftovers are vacuum's job.
void DiscardUploaded(storage::ObjectStore& store, const std::vector<StagedFile>& files);

}  // namespace sluice::connectors
