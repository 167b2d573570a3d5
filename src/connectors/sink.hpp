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
#include "config/options.hpp"
#include "config/project.hpp"
#include "config/value.hpp"
#include "engine/engine.hpp"

// Sinks: where a job's rows go when its target is outside the lake — a database table
// (`target: { connection: warehouse, schema: staging, table: orders }`) or plain files
// (`target: { type: files, path: exports/x.csv }`). The lake itself is written by pipeline/ with
// the catalog commit protocol (ARCHITECTURE.md); a sink publishes through its own atomic step
// (a database transaction, a rename) and the catalog then records the job's state.
namespace sluice::connectors {

/// What the job asks of the sink, from the job's own keys (the target's keys are the sink's options).
struct SinkBindContext {
  const config::ProjectConfig& project;
  std::string pipeline;
  std::string job;
  std::string connection_name;           // "" when the target is inline (type:)
  std::vector<std::string> primary_key;  // the job's primary_key (write: merge)
  bool apply_deletes = false;            // deletes: apply — rows with _change_type = 'delete' delete
};

/// What the pipeline needs to know after Bind, before any data is read.
struct SinkPlan {
  std::string sink;         // "postgres", "files"
  std::string target;       // for logs, run records and messages: "warehouse: staging.orders"
  std::string description;  // for `sluice validate`: "replace staging.orders in warehouse (PostgreSQL)"
  /// The sink records each load with the target in the same transaction (LoadRecord), so
  /// LastLoad() can tell after a crash whether the target already holds a load the catalog missed.
  bool records_loads = false;
};

/// The job state a load moves to; stored by the sink with the data when plan().records_loads.
struct LoadRecord {
  std::string scope;       // pipeline/job
  RunId load_id;           // the run that wrote it
  std::string state_json;  // opaque to the sink: the job state (files consumed, watermark) the catalog must reach
  int64_t rows = 0;
};

struct SinkRunContext {
  const Clock& clock;
  std::filesystem::path work_dir;  // private scratch folder of this run, removed afterwards
  RunId run_id;
};

/// One run's pending write. Nothing it writes is visible to readers of the target before
/// Commit(); destroying a writer that was not committed rolls back everything it wrote.
class SinkWriter {
 public:
  virtual ~SinkWriter() = default;
  /// Streams every row of the engine relation `relation` into the pending write, in bounded
  /// memory; called once per part of the input. Returns the rows written by this call.
  virtual Result<int64_t> Write(engine::Connection& connection, const std::string& relation) = 0;
  /// Publishes every part at once. With plan().records_loads, `record` is stored in the same
  /// transaction as the rows. After an error nothing was published.
  virtual Status Commit(const LoadRecord& record) = 0;
  /// Bytes written so far (0 when the sink cannot tell), for the run record.
  virtual int64_t BytesWritten() const { return 0; }
  /// Where the rows went, for the run record (files written, the table).
  virtual std::vector<std::string> Outputs() const { return {}; }
  /// Thread-safe: makes a running Write/Commit fail soon (cancellation, timeout).
  virtual void Interrupt() {}
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual const SinkPlan& plan() const = 0;
  /// The newest load recorded with the target for `scope` (plan().records_loads only; else nullopt).
  virtual Result<std::optional<LoadRecord>> LastLoad(const std::string& /*scope*/) {
    return std::optional<LoadRecord>();
  }
  virtual Result<std::unique_ptr<SinkWriter>> Open(const SinkRunContext& context) = 0;
};

/// A sink plug-in: a name, its options as data, and a Bind step that validates options and
/// plans without writing (so `sluice validate` can call it).
struct SinkDescriptor {
  std::string name;
  std::string description;
  std::vector<config::OptionSpec> options;
  std::function<Result<std::unique_ptr<Sink>>(const SinkBindContext&, const config::Value& options)> bind;
};

using SinkRegistry = PluginRegistry<SinkDescriptor, &SinkDescriptor::name>;

/// Registers every built-in sink: one line per plug-in in register_builtin.cpp.
void RegisterBuiltinSinks(SinkRegistry& registry);

/// Validates `options` against the descriptor's specs (unknown keys with hints, types) and binds.
/// `options` no longer holds `type:`/`connection:`: the pipeline resolved and removed them.
Result<std::unique_ptr<Sink>> BindSink(const SinkDescriptor& descriptor, const SinkBindContext& context,
                                       const config::Value& options);

}  // namespace sluice::connectors
