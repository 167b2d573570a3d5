#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/registry.hpp"
#include "common/status.hpp"
#include "config/options.hpp"
#include "config/value.hpp"

// The `triggers:` of a pipeline: parsing (with file:line:col errors), and the triggers that decide
// by themselves when a run is due (schedule, file_arrival). They hold no hidden state: the state
// comes in as a string when one is built and goes out with every Poll, so the daemon stores it in
// the same catalog transaction as the runs it enqueues.
namespace sluice::scheduler::triggers {

/// What a kind parsed from its item; each kind's header defines its own (ScheduleConfig, ...).
class TriggerConfig {
 public:
  virtual ~TriggerConfig() = default;
  /// One line for `sluice validate` and logs, e.g. "schedule */15 * * * * (Europe/Berlin)".
  virtual std::string Describe() const = 0;
};

/// One item of `triggers:`.
struct TriggerSpec {
  std::string kind;  // "schedule", "file_arrival", "on_commit", "on_success", "on_failure", "webhook", "on_demand"
  /// Stable id within the pipeline: kind + '#' + position among the pipeline's triggers of that
  /// kind ("schedule#0"). The daemon keys saved state by (pipeline, key).
  std::string key;
  config::Location location;
  std::shared_ptr<const TriggerConfig> config;

  /// The kind's config, or nullptr when this spec is of another kind.
  template <typename T>
  const T* As() const {
    return dynamic_cast<const T*>(config.get());
  }
};

/// One run to enqueue.
struct TriggerEvent {
  std::string pipeline;
  std::string kind;       // "schedule" | "file_arrival" | "on_commit"
  std::string dedup_key;  // the same event always gets the same key (e.g. "schedule:2026-11-23T01:00:00Z")
  std::string detail;     // for the run record, e.g. which files arrived
};

/// Something to tell people about that is not a run (kind "file_arrival_timeout": a partial
/// set of files waited longer than `timeout`). Reported once per occurrence.
struct TriggerAlert {
  std::string pipeline;
  std::string kind;
  std::string dedup_key;
  std::string detail;
};

struct TriggerPoll {
  std::vector<TriggerEvent> events;
  std::vector<TriggerAlert> alerts;
  std::string state;           // JSON; save it with the events, pass it back after a restart
  bool state_changed = false;  // false: `state` equals what the trigger was built from / last returned
};

/// A trigger that decides by itself when a run is due. Not thread-safe: one thread polls it.
///
/// Poll advances the object's in-memory state as if the daemon stored the returned state. If
/// storing fails, rebuild the trigger from the state that was last stored: it then returns the
/// same events with the same dedup keys again.
class PolledTrigger {
 public:
  virtual ~PolledTrigger() = default;
  virtual std::string Key() const = 0;
  /// Events due at `now` and the new state.
  virtual Result<TriggerPoll> Poll(TimePoint now) = 0;
  /// Poll again at this instant at the latest (nullopt: nothing will become due by time alone).
  virtual std::optional<TimePoint> NextWake(TimePoint now) const = 0;
  /// A file descriptor that becomes readable when polling earlier may find something (inotify on
  /// a local folder), or -1. Only a hint: Poll drains it and relies on listing.
  virtual int WakeFd() const { return -1; }
};

/// One file of a watched folder or prefix, as one listing saw it.
struct ListedFile {
  std::string key;  // relative to the watched folder or prefix
  uint64_t size = 0;
  std::string stamp;  // changes when the file is replaced (S3: the ETag; a local file: its mtime)
};

/// Lists a watched folder or prefix, whole, each time it is called.
using ListFolder = std::function<Result<std::vector<ListedFile>>()>;

/// Opens the lister of a location: an absolute local folder or s3://bucket/prefix. Whoever builds
/// the triggers supplies it (the `serve` command, from the project's storage settings), so triggers
/// never open storage themselves.
using OpenFolder = std::function<Result<ListFolder>(const std::string& location)>;

/// The current committed version of a lake table ("zone.table"); 0 when it has none or does not exist.
/// Whoever builds the triggers supplies it from the catalog (triggers never open the catalog themselves).
using TableVersionReader = std::function<Result<int64_t>(const std::string& table)>;

/// What building a polled trigger needs from the project.
struct PolledTriggerContext {
  std::string pipeline;
  std::filesystem::path project_root;  // relative file_arrival paths start here
  OpenFolder open_folder;              // empty: triggers that watch files cannot be built
  TableVersionReader table_version;    // empty: triggers that follow tables cannot be built
};

/// What parsing an item needs besides the item.
struct TriggerParseContext {
  std::string pipeline;
  std::string key;  // the spec's key ("schedule#0")
};

/// A trigger kind: the key naming it in a `triggers:` item, its options as data, and how to parse
/// and (for kinds that decide by time or files) build it.
struct TriggerDescriptor {
  std::string kind;
  std::string summary;
  std::string value_form;                   // what the kind key takes, for docs and messages
  std::vector<config::OptionSpec> options;  // keys besides the kind key (see options_inside)
  /// true: the options are a map under the kind key (file_arrival: {path: ...}); false: they sit
  /// next to the kind key in the item (schedule: "...", timezone: ...).
  bool options_inside = false;
  /// `item` is the whole list item (a map holding the kind key); its keys were checked already.
  std::function<Result<std::shared_ptr<const TriggerConfig>>(const config::Value& item,
                                                             const TriggerParseContext& context)>
      parse;
  /// Empty for kinds the daemon handles itself (on_success, webhook, ...).
  std::function<Result<std::unique_ptr<PolledTrigger>>(const TriggerSpec& spec, const PolledTriggerContext& context,
                                                       std::optional<std::string> saved_state)>
      make_polled;
};

using TriggerRegistry = PluginRegistry<TriggerDescriptor, &TriggerDescriptor::kind>;

/// Adds every built-in trigger kind (register_builtin.cpp: one line per kind).
void RegisterBuiltinTriggers(TriggerRegistry& registry);
/// The built-in kinds (immutable, built on first use).
const TriggerRegistry& BuiltinTriggers();

/// Parses a pipeline's `triggers:` list (config::PipelineConfig::triggers; null = no triggers).
/// Every problem (unknown kind or key with a nearest-word hint, bad cron, unknown time zone, bad
/// duration or max_runs) is reported with FILE:LINE:COL and key path, all in one Status.
Result<std::vector<TriggerSpec>> ParseTriggers(const TriggerRegistry& registry, const config::Value& triggers,
                                               const std::string& pipeline);
Result<std::vector<TriggerSpec>> ParseTriggers(const config::Value& triggers, const std::string& pipeline);

/// Checks that on_success / on_failure name pipelines of the project (with a nearest-name hint).
Status CheckTriggerReferences(const std::vector<TriggerSpec>& specs, const std::string& pipeline,
                              const std::vector<std::string>& project_pipelines);

bool IsPolled(const TriggerRegistry& registry, const TriggerSpec& spec);
/// Builds the trigger for a schedule or file_arrival spec; `saved_state` is what an earlier Poll
/// returned (nullopt on first start). A state that cannot be read is an error naming the trigger.
Result<std::unique_ptr<PolledTrigger>> MakePolledTrigger(const TriggerRegistry& registry, const TriggerSpec& spec,
                                                         const PolledTriggerContext& context,
                                                         std::optional<std::string> saved_state);
Result<std::unique_ptr<PolledTrigger>> MakePolledTrigger(const TriggerSpec& spec, const PolledTriggerContext& context,
                                                         std::optional<std::string> saved_state);

}  // namespace sluice::scheduler::triggers
