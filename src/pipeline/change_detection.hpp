#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "engine/engine.hpp"

namespace sluice::pipeline {

/// Where the previous run's key → hash index lives: a Parquet object in the lake, named in the
/// job state (key "change_index") that the same catalog commit as the data wrote.
struct ChangeIndexRef {
  std::string key;  // lake object key; "" = no index yet (first run, or after --full-refresh)
  int64_t rows = 0;
  static Result<ChangeIndexRef> Parse(const std::string& state_json);
  std::string ToJson() const;
};

struct ChangeDetectionOptions {
  std::vector<std::string> primary_key;
  bool mark_deletes = false;
  /// Columns left out of the row hash (besides the key); e.g. columns that change on every read.
  std::vector<std::string> ignore_columns;
  /// Prefix of the engine tables this detector creates; unique per job of a run.
  std::string table_prefix = "changes";
  std::string where;  // "job 'x' of pipeline 'y'", for messages
};

/// Source-independent change detection for `mode: changes`. Each part of the source's rows is
/// compared by primary key and an md5 over a canonical text encoding of the compared columns
/// with the previous run's index; only inserted and updated rows come out (with
/// `_change_type`), and, when asked, one delete marker per key that no longer exists. All of it
/// runs inside DuckDB tables, which spill to the engine's temp directory, so memory stays
/// bounded by the engine's memory_limit whatever the table size.
///
/// The hash is portable: md5 of, for each compared column in name order, "N" for NULL or
/// "<length>:<CAST(value AS VARCHAR)>" — any tool can recompute it.
class ChangeDetector {
 public:
  /// `previous_index` is a local Parquet file of an earlier WriteIndex (nullopt: everything is new).
  static Result<std::unique_ptr<ChangeDetector>> Start(engine::Connection& connection, ChangeDetectionOptions options,
                                                       const std::optional<std::filesystem::path>& previous_index);

  /// Compares one part (the relation a source reader filled) with the previous index and returns
  /// the name of a table holding only its inserted and updated rows, plus `_change_type`.
  Result<std::string> DiffPart(const std::string& relation);
  /// After the last part: a table of delete markers (key columns set, others NULL,
  /// `_change_type` = 'delete'), or "" when deletes are not marked or no key disappeared.
  /// Fails when the source delivered a key twice.
  Result<std::string> FinishDeletes();
  /// Writes the new index (every current key with its hash) as Parquet to `path`.
  Status WriteIndex(const std::filesystem::path& path);

  int64_t inserts() const { return inserts_; }
  int64_t updates() const { return updates_; }
  int64_t deletes() const { return deletes_; }
  int64_t changes() const { return inserts_ + updates_ + deletes_; }
  int64_t index_rows() const { return index_rows_; }

 private:
  ChangeDetector(engine::Connection& connection, ChangeDetectionOptions options)
      : connection_(connection), options_(std::move(options)) {}
  std::string Table(std::string_view suffix) const;
  Status PrepareColumns(const std::string& relation);

  engine::Connection& connection_;
  ChangeDetectionOptions options_;
  std::vector<engine::ColumnDescription> columns_;  // of the source parts
  std::string hash_sql_;
  std::string key_list_;  // "id", "k2"
  int64_t inserts_ = 0, updates_ = 0, deletes_ = 0, index_rows_ = 0;
};

}  // namespace sluice::pipeline
