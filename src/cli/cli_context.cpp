#include "cli/cli_context.hpp"

#include <cstdio>

#include "common/strings.hpp"
#include "connectors/source.hpp"
#include "notify/dispatch.hpp"
#include "notify/notifier.hpp"

namespace sluice::cli {
namespace fs = std::filesystem;

Result<fs::path> FindProjectFile(const GlobalOptions& options) {
  if (!options.project_dir.empty()) {
    fs::path p = fs::absolute(options.project_dir);
    if (fs::is_directory(p)) p /= "sluice.yaml";
    if (!fs::exists(p)) {
      return Status::Invalid("no sluice.yaml at '{}'; create a project with `sluice init DIR`", p.string());
    }
    return p;
  }
  if (const char* env = std::getenv("SLUICE_PROJECT"); env != nullptr && *env != '\0') {
    GlobalOptions from_env = options;
    from_env.project_dir = env;
    return FindProjectFile(from_env);
  }
  for (fs::path dir = fs::current_path(); !dir.empty(); dir = dir.parent_path()) {
    if (fs::exists(dir / "sluice.yaml")) return dir / "sluice.yaml";
    if (dir == dir.root_path()) break;
  }
  return Status::Invalid(
      "no sluice.yaml in {} or any parent folder; run inside a project, pass --project DIR, or create one with "
      "`sluice init DIR`",
      fs::current_path().string());
}

Result<config::ProjectConfig> LoadProjectOnly(CliContext& context) {
  SLUICE_ASSIGN_OR_RETURN(auto file, FindProjectFile(context.options));
  config::LoadOptions load;
  load.env = context.options.env;
  load.redactor = context.redactor;
  return config::LoadProject(file, load);
}

namespace {

/// Masks the secrets of sluice.yaml's connections and notifications from the start, not only once a job
/// binds its source or a notification is sent: their plug-ins' option tables say which keys are secrets.
/// Problems are ignored here; validate, the bind and the send report them where they always have.
void RegisterProjectSecrets(const config::ProjectConfig& project) {
  std::vector<std::string> ignored;
  connectors::SourceRegistry sources;
  connectors::RegisterBuiltinSources(sources);
  if (project.connections.IsMap()) {
    for (const auto& [name, entry] : project.connections.entries()) {
      const config::Value* type = entry.Find("type");
      const auto* descriptor = type != nullptr && type->IsScalar() ? sources.Find(type->scalar()) : nullptr;
      if (descriptor != nullptr) config::ValidateOptions(entry, descriptor->options, name, &ignored);
    }
  }
  notify::NotifierRegistry notifiers;
  notify::RegisterBuiltinNotifiers(notifiers);
  notify::ValidateNotifications(notifiers, project.notifications, &ignored);
}

}  // namespace

Result<LoadedProject> LoadAll(CliContext& context, bool with_pipelines) {
  LoadedProject loaded;
  SLUICE_ASSIGN_OR_RETURN(loaded.project, LoadProjectOnly(context));
  RegisterProjectSecrets(loaded.project);
  if (with_pipelines) {
    config::LoadOptions load;
    load.env = context.options.env;
    load.redactor = context.redactor;
    SLUICE_ASSIGN_OR_RETURN(loaded.pipelines, config::LoadPipelines(loaded.project, load));
  }
  SLUICE_ASSIGN_OR_RETURN(loaded.workspace, pipeline::Workspace::Open(loaded.project, context.clock, context.redactor));
  return loaded;
}

int ReportError(const CliContext& context, const Status& status) {
  std::string text = context.redactor->Apply(status.message());
  std::fprintf(stderr, "error: %s\n", text.c_str());
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound: return kExitUsage;
    default: return kExitFailed;
  }
}

}  // namespace sluice::cli
