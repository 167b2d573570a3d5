#include "pipeline/workspace.hpp"

namespace sluice::pipeline {

Result<std::unique_ptr<Workspace>> Workspace::Open(config::ProjectConfig project, std::shared_ptr<const Clock> clock,
                                                   std::shared_ptr<const Redactor> redactor) {
  std::unique_ptr<Workspace> ws(new Workspace());
  ws->project_ = std::move(project);
  ws->clock_ = std::move(clock);
  ws->redactor_ = std::move(redactor);
  const auto& p = ws->project_;
  SLUICE_ASSIGN_OR_RETURN(ws->lake_, storage::OpenObjectStore(p.lake));
  SLUICE_ASSIGN_OR_RETURN(ws->catalog_, catalog::OpenMetadataStore(p.catalog, ws->clock_));

  engine::DatabaseOptions engine_options;
  engine_options.temp_directory = (ws->state_dir() / "tmp").string();
  SLUICE_ASSIGN_OR_RETURN(engine_options.memory_limit, p.engine.GetString("memory_limit", "2GB"));
  SLUICE_ASSIGN_OR_RETURN(int64_t threads, p.engine.GetInt("threads", 0));
  engine_options.threads = static_cast<int>(threads);
  SLUICE_ASSIGN_OR_RETURN(ws->engine_, engine::Database::Open(engine_options));

  connectors::RegisterBuiltinSources(ws->sources_);
  return ws;
}

std::filesystem::path Workspace::RunLogPath(const std::string& run_id) const {
  return state_dir() / "runs" / (run_id + ".log");
}

}  // namespace sluice::pipeline
