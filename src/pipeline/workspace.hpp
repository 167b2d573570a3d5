#pragma once

#include <mutex>

#include <filesystem>
#include <memory>

#include "catalog/metadata_store.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/secret.hpp"
#include "config/project.hpp"
#include "connectors/s3_settings.hpp"
#include "connectors/sink.hpp"
#include "connectors/source.hpp"
#include "connectors/sql_script.hpp"
#include "engine/engine.hpp"
#include "pipeline/spill_folder.hpp"
#include "storage/object_store.hpp"
#include "storage/read_cache.hpp"

namespace sluice::pipeline {

using connectors::S3OptionsFromConfig;

/// Everything a command needs that is opened from the project file: the lake's object store,
/// the catalog, the embedded engine and the plug-in registries. Owned by main() and lent down.
class Workspace {
 public:
  static Result<std::unique_ptr<Workspace>> Open(config::ProjectConfig project, std::shared_ptr<const Clock> clock,
                                                 std::shared_ptr<const Redactor> redactor);

  const config::ProjectConfig& project() const { return project_; }
  storage::ObjectStore& lake() { return *lake_; }
  catalog::MetadataStore& catalog() { return *catalog_; }
  engine::Database& engine() { return *engine_; }
  const connectors::SourceRegistry& sources() const { return sources_; }
  const connectors::SinkRegistry& sinks() const { return sinks_; }
  /// The databases that run sql: jobs, by connection type.
  const connectors::SqlScriptRegistry& sql_scripts() const { return sql_scripts_; }
  /// Local copies of remote lake files for queries (<project>/.sluice/cache).
  storage::ReadThroughCache& query_cache() { return *query_cache_; }
  /// Held by a job that reads catalog tables: it narrows the shared engine's zone.table views to its input.
  std::mutex& catalog_input_mutex() { return catalog_input_mutex_; }
  const Clock& clock() const { return *clock_; }
  /// This process's own spill folder of the engine.
  const std::filesystem::path& spill_dir() const { return spill_->path(); }
  /// What the engine was opened with (engine: of sluice.yaml, defaults applied).
  const engine::DatabaseOptions& engine_options() const { return engine_options_; }
  /// Masks secret values in text that leaves the process (run records, notifications).
  std::string Redact(std::string_view text) const { return redactor_ ? redactor_->Apply(text) : std::string(text); }
  std::shared_ptr<const Clock> shared_clock() const { return clock_; }
  /// <project>/.sluice: catalog default, locks, run logs, staging, engine spill (tmp/<pid>-<random>).
  std::filesystem::path state_dir() const { return project_.root / ".sluice"; }
  std::filesystem::path RunLogPath(const RunId& run) const;

 private:
  Workspace() = default;
  config::ProjectConfig project_;
  std::shared_ptr<const Clock> clock_;
  std::shared_ptr<const Redactor> redactor_;
  std::unique_ptr<storage::ObjectStore> lake_;
  std::unique_ptr<storage::ReadThroughCache> query_cache_;
  std::mutex catalog_input_mutex_;
  std::unique_ptr<catalog::MetadataStore> catalog_;
  std::unique_ptr<SpillFolder> spill_;  // outlives engine_, which spills into it
  std::unique_ptr<engine::Database> engine_;
  engine::DatabaseOptions engine_options_;
  connectors::SourceRegistry sources_;
  connectors::SinkRegistry sinks_;
  connectors::SqlScriptRegistry sql_scripts_;
};

}  // namespace sluice::pipeline
