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
  /// How its hashes were computed: kPortableRowHash, or the kind a source that hashes rows
  /// itself named (RowHashingRead::StartRowHashing). Indexes written before kinds existed are portable.
  std::string hash_kind = "md5";
  static Result<ChangeIndexRef> Parse(const std::string& state_json);
  std::string ToJson() const;
};

/// Where change indexes live in the lake: <prefix><pipeline>/<job>/<run>.parquet; the job's state
/// "change_index" names the current one.
inline constexpr const char* kChangeIndexPrefix = "_sluice/change_index/";

/// The hash the pipeline computes itself (see ChangeDetector).
inline constexpr const char* kPortableRowHash = "md5";

struct ChangeDetectionOptions {
  std::vector<std::string> primary_key;
  bool mark_deletes = false;
  /// Columns left out of the row hash (besides the key); e.g. columns that change on every read.
  std::vector<std::string> ignore_columns;
  /// Prefix of the engine tables this detector creates; unique per job of a run.
  std::string table_prefix = "changes";
  std::string where;  // "job 'x' of pipeline 'y'", for messages
  /// The kind of hash the previous index holds (ChangeIndexRef::hash_kind).
  std::string previous_hash_kind = kPortableRowHash;
  /// The source hashes rows itself, with this kind, in column connectors::kSourceRowHashColumn;
  /// "" = the detector computes the portable hash.
  std::string source_hash_kind;
  /// The source guarantees unique, non-NULL keys, so they are not checked again.
  bool source_keys_unique = false;
};

/// Source-independent change detection for `mode: changes`. Each part of the source's rows is
/// compared by primary key and an md5 over a canonical text encoding of the compared columns
/// with the previous run's index; only inserted and updated rows come out (with
/// `_change_type`), and, when asked, one delete marker per key that no longer exists. All of it
/// runs inside DuckDB tables, which spill to the engine's temp directory, so memory stays
/// bounded by the engine's memory_limit whatever the table size.
///
/// The portable hash is md5 of, for each compared column in name order, "N" for NULL or
/// "<length>:<CAST(value AS VARCHAR)>" — any tool can recompute it. A source that hashes rows
/// itself hands over its own hash instead, and its kind is kept with the index: hashes of
/// different kinds are never compared. Moving from the portable hash to a source's costs one
/// run that computes both.
///
/// With a source hash and an index of the same kind, a run can go keys first: DiffKeys()
/// compares every key's hash with the index, the source then delivers only the changed rows,
/// and DiffPart() labels them.
class ChangeDetector {
 public:
  /// `previous_index` is a local Parquet file of an earlier WriteIndex (nullopt: everything is new).
  static Result<std::unique_ptr<ChangeDetector>> Start(engine::Connection& connection, ChangeDetectionOptions options,
                                                       const std::optional<std::filesystem::path>& previous_index);

  /// Whether DiffKeys() can be used: the source hashes rows with the kind the previous index holds.
  bool CanDiffKeysFirst() const;
  /// Compares `key_hashes` (the key columns and the source's hash of every current row) with the
  /// previous index; returns a table of the changed keys (and their `_change_type`) from which
  /// the source should deliver the rows. `key_hashes` becomes the new index (it is renamed).
  Result<std::string> DiffKeys(const std::string& key_hashes);
  /// Compares one part (the relation a source reader filled) with the previous index and returns
  /// the name of a table holding only its inserted and updated rows, plus `_change_type`. After
  /// DiffKeys() the part holds only changed rows, which it labels.
  Result<std::string> DiffPart(const std::string& relation);
  /// The kind of hash the new index holds.
  const std::string& hash_kind() const;
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
  /// The key columns and their types, from any relation holding them; creates the index tables.
  Status PrepareKeys(const std::string& relation);
  /// The compared columns and the hash expressions, from the first part.
  Status PrepareColumns(const std::string& relation);
  Result<std::string> LabelChangedRows(const std::string& relation);
  std::string KeyJoin(std::string_view left, std::string_view right) const;

  engine::Connection& connection_;
  ChangeDetectionOptions options_;
  std::vector<engine::ColumnDescription> columns_;  // of the source parts, without the source's hash
  std::string compare_hash_sql_;                    // the hash compared with the previous index's
  std::string index_hash_sql_;                      // the hash the new index keeps
  std::string key_list_;                            // "id", "k2"
  std::string index_hash_kind_, compare_hash_kind_;
  bool has_previous_ = false;
  bool parts_carry_source_hash_ = false;
  bool keys_first_ = false;  // DiffKeys() ran: parts hold only changed rows
  int64_t inserts_ = 0, updates_ = 0, deletes_ = 0, index_rows_ = 0;
};

}  // namespace sluice::pipeline
