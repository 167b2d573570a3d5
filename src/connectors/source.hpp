#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/registry.hpp"
#include "common/status.hpp"
#include "config/job_modes.hpp"
#include "config/options.hpp"
#include "config/project.hpp"
#include "config/value.hpp"
#include "connectors/change_capture.hpp"
#include "connectors/read_capabilities.hpp"
#include "connectors/window_state.hpp"
#include "engine/engine.hpp"

namespace sluice::connectors {

/// An input a source has consumed (a file, an object); the pipeline records it in the same
/// commit as the data so a rerun skips it.
struct ConsumedInput {
  std::string path;
  int64_t size = 0;
  int64_t mtime_us = 0;
  std::string content_hash;  // "" when identity is path + size + mtime
};

/// What a source resumes from; opaque to the pipeline except for the consumed inputs.
struct Checkpoint {
  std::string state_json = "{}";
  std::vector<ConsumedInput> consumed;  // inputs committed by earlier runs
  /// A snapshot load interrupted earlier: ResumableRead::ResumeToken() of its last staged part; "" = from the start.
  std::string resume_token;
};

/// What the job asks of its source: the parts of the job a source may act on, typed. A source
/// never sees the rest of the job (its steps, checks, mask, target options).
struct ReadRequest {
  config::LoadMode mode = config::LoadMode::kFull;
  config::Location job_location;   // the job, for messages about what it lacks
  config::Location mode_location;  // its mode: (the job's location when mode: is implied)
  std::vector<std::string> primary_key;
  config::Value window;        // the job's window: map (mode: window); null when absent
  config::Value partitioning;  // the job's partitioning: map (mode: window); null when absent
  std::string target_table;    // target: table: ("" = none): mode: cdc of one table lands there
  config::Location target_table_location;
  config::Value cdc;  // the job's cdc: map (mode: cdc); null when absent
};

struct BindContext {
  const config::ProjectConfig& project;
  std::string pipeline;
  std::string job;
  std::string connection_name;  // "" when the source is inline (type:)
  ReadRequest request;          // a default request (mode: full) in tests that bind a source on its own
};

struct RunContext {
  const Clock& clock;
  std::filesystem::path work_dir;  // private scratch folder of this run, removed afterwards
  RunId run_id;
  /// The pipeline reads each part from Read() exactly once, in one query (no steps, checks or
  /// second look): a source may then hand parts over as an engine::RowStream, read while the
  /// pipeline writes them, instead of filling a table first.
  bool single_scan = false;
  /// mode: cdc's initial copy: read in this exported snapshot (the replication slot's), so the
  /// copy ends exactly where the change stream begins; "" = a snapshot of the reader's own.
  std::string snapshot;
};

/// What the pipeline needs to know after Bind, before any data is read.
struct SourcePlan {
  std::string connector;       // "files"
  std::string origin;          // layout segment of raw tables: connection name or connector name
  std::string description;     // for logs and `sluice validate`: "3 CSV files matching incoming/*.csv"
  bool is_incremental = true;  // raw layout: …/incremental/… or …/full/…
  /// Each run delivers the whole source: its commit replaces the table's contents (a new
  /// snapshot version) instead of appending.
  bool snapshot = false;
};

enum class ReadState { kHaveMore, kFinished };

/// Per-run reader. Read() makes (the next part of) the input visible to the engine as the
/// relation `relation` — a view over files or a table the reader filled — and says whether more
/// parts follow. The pipeline writes each part to staging before asking for the next, so a
/// reader holds at most one part in memory; all parts are published by one commit at the end.
/// Readers never write to the lake or the catalog.
class SourceReader {
 public:
  virtual ~SourceReader() = default;
  /// Human summary of the pending input ("2 new files, 170 MB").
  virtual std::string PendingSummary() const = 0;
  /// True when there is nothing new to read (the run then reports "no changes").
  virtual bool NothingToRead() const = 0;
  /// Bytes of input this run will read, for progress; 0 when unknown.
  virtual uint64_t PendingBytes() const = 0;
  virtual Result<ReadState> Read(engine::Connection& connection, const std::string& relation) = 0;
  /// Called once the part from the last Read() has been consumed, with how that went. A source
  /// that hands parts over as streams learns only now what a part held: it answers its own error
  /// when reading failed (more precise than the engine's), and kFinished when the part turned
  /// out to be the last although Read() said kHaveMore.
  virtual Result<ReadState> PartConsumed(Status consumed) {
    if (!consumed.ok()) return consumed;
    return ReadState::kHaveMore;
  }
  /// The checkpoint to commit with this run's data.
  virtual Checkpoint NewCheckpoint() const = 0;

  // Capabilities (connectors/read_capabilities.hpp), null when the reader has not got one; the
  // pipeline asks these, not the plan, before relying on one.
  virtual const RejectingRead* rejecting() const { return nullptr; }
  virtual const ResumableRead* resumable() const { return nullptr; }
  virtual const WindowedRead* windowed() const { return nullptr; }
  virtual RowHashingRead* row_hashing() { return nullptr; }
};

class Source {
 public:
  virtual ~Source() = default;
  virtual const SourcePlan& plan() const = 0;
  virtual Result<std::unique_ptr<SourceReader>> Open(const Checkpoint& checkpoint, const RunContext& context) = 0;
  /// mode: cdc: the source's change log (connectors/change_capture.hpp); sources without one refuse.
  virtual Result<std::unique_ptr<ChangeCapture>> OpenChangeCapture() {
    return Status::Invalid("{} sources have no change log to follow (mode: cdc)", plan().connector);
  }
};

/// A source plug-in: a name, its options as data, and a Bind step that validates options and
/// plans without reading data (so `sluice validate` can call it).
struct SourceDescriptor {
  std::string name;
  std::string description;
  std::vector<config::OptionSpec> options;
  std::function<Result<std::unique_ptr<Source>>(const BindContext&, const config::Value& options)> bind;
};

using SourceRegistry = PluginRegistry<SourceDescriptor, &SourceDescriptor::name>;

/// Registers every built-in source: one line per plug-in in register_builtin.cpp.
void RegisterBuiltinSources(SourceRegistry& registry);

/// Validates `options` against the descriptor's specs (unknown keys with hints, types) and binds.
/// `options` no longer holds `type:`/`connection:`: the pipeline resolved and removed them.
Result<std::unique_ptr<Source>> BindSource(const SourceDescriptor& descriptor, const BindContext& context,
                                           const config::Value& options);

}  // namespace sluice::connectors
