#include "pipeline/source_binding.hpp"

#include <fmt/format.h>

#include "common/strings.hpp"

namespace sluice::pipeline {

std::string JobStateScope(const std::string& pipeline, const std::string& job) { return pipeline + "/" + job; }

Result<connectors::Checkpoint> LoadCheckpoint(catalog::MetadataStore& catalog, const std::string& scope) {
  connectors::Checkpoint checkpoint;
  SLUICE_ASSIGN_OR_RETURN(auto loaded, catalog.LoadedFiles(scope));
  for (const auto& f : loaded) checkpoint.consumed.push_back({f.path, f.size, f.mtime_us, f.content_hash});
  SLUICE_ASSIGN_OR_RETURN(auto state, catalog.GetState(scope, kSourceStateKey));
  if (state) checkpoint.state_json = *state;
  return checkpoint;
}

Result<const config::Value*> FindConnection(const config::ProjectConfig& project, const std::string& name,
                                            const std::string& where) {
  const auto& connections = project.connections;
  if (const auto* connection = connections.Find(name)) {
    SLUICE_TRY(project.CheckResolved("connections." + name, where));
    return connection;
  }
  std::string hint = NearestWord(name, connections.Keys());
  return Status::Invalid("{}: connection '{}' is not defined under connections: in sluice.yaml{}", where, name,
                         hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint));
}

Result<ResolvedSource> ResolveSource(const Workspace& workspace, const config::PipelineConfig& pipeline,
                                     const config::JobConfig& job) {
  const auto& source = job.source;
  std::string where =
      fmt::format("{}: source of job '{}' in pipeline '{}'", source.location().ToString(), job.name, pipeline.name);
  if (!source.IsMap()) return Status::Invalid("{} must be a map with type:, connection: or table:", where);
  ResolvedSource resolved;
  std::vector<std::pair<std::string, config::Value>> entries;
  std::string type;
  if (const auto* connection = source.Find("connection")) {
    SLUICE_ASSIGN_OR_RETURN(resolved.connection_name, connection->AsString());
    SLUICE_ASSIGN_OR_RETURN(const auto* conn,
                            FindConnection(workspace.project(), resolved.connection_name,
                                           fmt::format("{}: source of job '{}' in pipeline '{}'",
                                                       connection->location().ToString(), job.name, pipeline.name)));
    SLUICE_ASSIGN_OR_RETURN(type, conn->Find("type")->AsString());
    for (const auto& [k, v] : conn->entries()) {
      if (k != "type") entries.emplace_back(k, v);
    }
  } else if (const auto* t = source.Find("type")) {
    SLUICE_ASSIGN_OR_RETURN(type, t->AsString());
  } else if (source.Find("table") != nullptr) {
    return Status::Invalid("{} reads catalog tables (table:); it has no connector to resolve", where);
  } else {
    return Status::Invalid("{} needs type: (a connector such as files), connection: or table:", where);
  }
  for (const auto& [k, v] : source.entries()) {
    if (k == "type" || k == "connection") continue;
    bool replaced = false;
    for (auto& e : entries) {
      if (e.first == k) {
        e.second = v;
        replaced = true;
      }
    }
    if (!replaced) entries.emplace_back(k, v);
  }
  resolved.descriptor = workspace.sources().Find(type);
  if (resolved.descriptor == nullptr) {
    std::string hint = NearestWord(type, workspace.sources().Names());
    return Status::Invalid("{}: unknown source type '{}'{}; available: {}", where, type,
                           hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint),
                           Join(workspace.sources().Names(), ", "));
  }
  resolved.options = config::Value::Map(std::move(entries), source.location(), source.path());
  return resolved;
}

connectors::ReadRequest ReadRequestOf(const config::JobConfig& job) {
  connectors::ReadRequest request;
  request.mode = job.mode;
  request.job_location = job.location;
  const config::Value* mode = job.raw.Find("mode");
  request.mode_location = mode != nullptr ? mode->location() : job.location;
  request.primary_key = job.primary_key;
  request.window = job.window;
  request.partitioning = job.partitioning;
  request.target_table = job.target.table;
  request.target_table_location = job.target.raw.KeyLocation("table");
  if (const config::Value* cdc = job.raw.Find("cdc")) request.cdc = *cdc;
  return request;
}

Result<std::unique_ptr<connectors::Source>> BindJobSource(const Workspace& workspace,
                                                          const config::PipelineConfig& pipeline,
                                                          const config::JobConfig& job) {
  SLUICE_ASSIGN_OR_RETURN(auto resolved, ResolveSource(workspace, pipeline, job));
  connectors::BindContext context{workspace.project(), pipeline.name, job.name, resolved.connection_name,
                                  ReadRequestOf(job)};
  return connectors::BindSource(*resolved.descriptor, context, resolved.options);
}

}  // namespace sluice::pipeline
