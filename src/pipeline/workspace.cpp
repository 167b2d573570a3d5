#include "pipeline/workspace.hpp"

#include <algorithm>

#include "common/strings.hpp"
#include "config/option_reader.hpp"
#include "iceberg/publisher.hpp"

namespace sluice::pipeline {

Result<std::unique_ptr<Workspace>> Workspace::Open(config::ProjectConfig project, std::shared_ptr<const Clock> clock,
                                                   std::shared_ptr<const Redactor> redactor) {
  std::unique_ptr<Workspace> ws(new Workspace());
  ws->project_ = std::move(project);
  ws->clock_ = std::move(clock);
  ws->redactor_ = std::move(redactor);
  const auto& p = ws->project_;
  // The s3: block matters only for an S3 lake; a local lake must not fail over an unused, partial block.
  storage::s3::S3Options s3_options;
  if (StartsWith(ToLower(p.lake), "s3://")) {
    SLUICE_ASSIGN_OR_RETURN(s3_options, S3OptionsFromConfig(p.s3));
  }
  SLUICE_ASSIGN_OR_RETURN(ws->lake_, storage::OpenObjectStore(p.lake, s3_options, storage::s3::ProcessEnvironment()));
  SLUICE_ASSIGN_OR_RETURN(uint64_t cache_size, config::OptionReader(p.s3, config::S3Keys()).ByteSize("cache_size"));
  ws->query_cache_ = std::make_unique<storage::ReadThroughCache>(ws->state_dir() / "cache", cache_size);
  SLUICE_ASSIGN_OR_RETURN(ws->catalog_, catalog::OpenMetadataStore(p.catalog, ws->clock_));
  if (p.table_format == "iceberg") {
    ws->catalog_->SetTableFormatPublisher(std::make_shared<iceberg::IcebergPublisher>(*ws->lake_));
  }

  engine::DatabaseOptions engine_options;
  config::OptionReader engine_keys(p.engine, config::EngineKeys());
  SLUICE_ASSIGN_OR_RETURN(auto spill_root, engine_keys.String("temp_directory"));
  SLUICE_ASSIGN_OR_RETURN(
      ws->spill_,
      SpillFolder::Claim(spill_root.empty() ? ws->state_dir() / "tmp" : config::ResolveProjectPath(p, spill_root)));
  engine_options.temp_directory = ws->spill_->path().string();
  SLUICE_ASSIGN_OR_RETURN(engine_options.memory_limit, engine_keys.String("memory_limit"));
  SLUICE_ASSIGN_OR_RETURN(int64_t threads, engine_keys.Int("threads"));
  engine_options.threads = static_cast<int>(threads);
  SLUICE_ASSIGN_OR_RETURN(ws->engine_, engine::Database::Open(engine_options));
  ws->engine_options_ = engine_options;

  connectors::RegisterBuiltinSources(ws->sources_);
  connectors::RegisterBuiltinSinks(ws->sinks_);
  connectors::RegisterBuiltinSqlScripts(ws->sql_scripts_);
  return ws;
}

std::filesystem::path Workspace::RunLogPath(const RunId& run) const {
  return state_dir() / "runs" / (run.value + ".log");
}

}  // namespace sluice::pipeline
