#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "connectors/window_state.hpp"
#include "engine/engine.hpp"

// What a source reader can do beyond reading parts. A reader implements the capabilities it has
// and hands them out through SourceReader's accessors (resumable(), windowed(), …), which answer
// null for the others: the pipeline asks before it relies on one, so no capability has a default
// that fails.

namespace sluice::connectors {

/// Sets rows it cannot read aside instead of failing the run (files, CSV).
class RejectingRead {
 public:
  virtual ~RejectingRead() = default;
  /// Rows the source could not read, as a relation with columns
  /// (_source_file VARCHAR, _line BIGINT, _column VARCHAR, _error_type VARCHAR, _reason VARCHAR, _raw_line VARCHAR);
  /// "" when this run's input cannot have any. Valid after the relation from Read() has been consumed.
  virtual std::string RejectsRelation() const = 0;
};

/// A snapshot load that a later run can resume past the parts already handed over.
class ResumableRead {
 public:
  virtual ~ResumableRead() = default;
  /// After Read(), a token from which a later run carries on past every row handed over so far;
  /// "" while there is none yet.
  virtual std::string ResumeToken() const = 0;
  /// Open() accepted checkpoint.resume_token: this run reads only what follows it.
  virtual bool Resuming() const = 0;
};

/// mode: window: reads one window of rows per run.
class WindowedRead {
 public:
  virtual ~WindowedRead() = default;
  /// The window this run reads (recorded with the run); nullopt when there is nothing to read.
  virtual std::optional<WindowBounds> Window() const = 0;
};

/// mode: changes: which columns identify a row and which do not count as a change.
struct RowHashRequest {
  std::vector<std::string> key;
  std::vector<std::string> ignore;
};

/// What a source that hashes rows itself answers to a RowHashRequest.
struct SourceRowHashing {
  std::string kind;          // recorded with the index; "" = the source cannot hash these rows
  bool unique_keys = false;  // the source guarantees the key is unique and never NULL (a primary key)
};

/// The column in which a source that hashes rows itself hands each row's hash to the pipeline.
inline constexpr const char* kSourceRowHashColumn = "_sluice_row_hash";

/// mode: changes, computed where the rows live. A source that can hash its rows itself (a
/// database server) saves a run from transferring rows that did not change: the pipeline first
/// reads every key with its hash, compares them with its index, then asks only for the rows
/// whose hash differs. Called before the first Read(), in this order.
class RowHashingRead {
 public:
  virtual ~RowHashingRead() = default;
  /// Starts hashing rows as `request` says; returns the kind of hash (recorded with the index, so
  /// that only hashes of the same kind are ever compared), or no kind when these rows cannot be
  /// hashed here and the pipeline hashes the rows it reads. Once a kind is returned, every part
  /// from Read() carries the hash in column kSourceRowHashColumn.
  virtual Result<SourceRowHashing> StartRowHashing(const RowHashRequest& request) = 0;
  /// After a kind was returned: fills `relation` with the key columns and kSourceRowHashColumn of every current row.
  virtual Status ReadKeyHashes(engine::Connection& connection, const std::string& relation) = 0;
  /// From now on Read() delivers only the rows whose keys are in the engine table `keys` (the key
  /// columns, by name), in as many parts as it takes; at least one, possibly empty.
  virtual Status RestrictToKeys(engine::Connection& connection, const std::string& keys) = 0;
};

}  // namespace sluice::connectors
