#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/registry.hpp"
#include "common/status.hpp"
#include "config/options.hpp"
#include "config/value.hpp"

namespace sluice::notify {

/// Why a notification is sent; picks the pipeline's `notify.on_success|on_failure|on_retries_exhausted` list.
enum class RunEvent { kSuccess, kFailure, kRetriesExhausted };
const char* RunEventKey(RunEvent event);  // "on_success", ...

struct JobLine {
  std::string job, status, table;
  int64_t rows_written = 0, rows_rejected = 0, bytes_written = 0;
  int64_t attempts = 1;
  std::string message;  // already redacted
};

/// Everything a message says about one run. Built from the run record; holds no secrets.
struct RunNotice {
  std::string project, pipeline, run_id, status, trigger;
  double duration_seconds = 0;
  int64_t rows_written = 0, bytes_written = 0;
  std::string error;  // already redacted; names job, file, line where the run recorded them
  std::vector<JobLine> jobs;
  std::string LogsHint() const { return "sluice logs " + run_id; }
};

/// Sends notices to one configured destination (an entry of `notifications:` in sluice.yaml).
class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual Status Send(const RunNotice& notice) = 0;
};

/// A notifier plug-in: its `type:` name, its options as data, and how to build one.
struct NotifierDescriptor {
  std::string type;
  std::string summary;
  std::vector<config::OptionSpec> options;  // keys besides type:
  /// `name` is the entry's key under notifications:, `options` the validated map.
  std::function<Result<std::unique_ptr<Notifier>>(const std::string& name, const config::Value& options)> create;
};

using NotifierRegistry = PluginRegistry<NotifierDescriptor, &NotifierDescriptor::type>;

/// Adds every built-in notifier (register_builtin.cpp: one line per notifier).
void RegisterBuiltinNotifiers(NotifierRegistry& registry);

}  // namespace sluice::notify
