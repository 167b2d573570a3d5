#pragma once

#include <memory>
#include <string>

#include "catalog/metadata_store.hpp"
#include "config/pipeline.hpp"
#include "connectors/source.hpp"
#include "pipeline/workspace.hpp"

// The first stage of a job: from its source: map to a bound connectors::Source, and the
// checkpoint the source resumes from.

namespace sluice::pipeline {

/// The catalog state scope of a job ("pipeline/job") and the key its source's checkpoint is kept under.
std::string JobStateScope(const std::string& pipeline, const std::string& job);
inline constexpr const char* kSourceStateKey = "source";

/// What a job's source resumes from: the inputs it consumed and its state, as the catalog has them.
Result<connectors::Checkpoint> LoadCheckpoint(catalog::MetadataStore& catalog, const std::string& scope);

/// The connection `name` of sluice.yaml; an error starting with `where` (with a nearest-name hint) when
/// there is none.
Result<const config::Value*> FindConnection(const config::ProjectConfig& project, const std::string& name,
                                            const std::string& where);

/// A job's source after resolving `type:` / `connection:`: the plug-in and its merged options.
struct ResolvedSource {
  const connectors::SourceDescriptor* descriptor = nullptr;
  config::Value options;
  std::string connection_name;
};

Result<ResolvedSource> ResolveSource(const Workspace& workspace, const config::PipelineConfig& pipeline,
                                     const config::JobConfig& job);

/// Resolves and binds a job's source (no data read).
Result<std::unique_ptr<connectors::Source>> BindJobSource(const Workspace& workspace,
                                                          const config::PipelineConfig& pipeline,
                                                          const config::JobConfig& job);

}  // namespace sluice::pipeline
