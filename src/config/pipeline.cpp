#include "config/pipeline.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/strings.hpp"
#include "config/document.hpp"
#include "config/pipeline_parsing.hpp"

namespace sluice::config {

namespace fs = std::filesystem;
using internal::Prefix;

const JobConfig* PipelineConfig::FindJob(std::string_view job) const {
  for (const auto& j : jobs) {
    if (j.name == job) return &j;
  }
  return nullptr;
}

namespace {

/// One pipeline file: the environment overlay, the pipeline's own keys, and its jobs in the
/// single-job or the jobs: form (each read by internal::JobParser, then ordered by depends_on).
class PipelineParser {
 public:
  PipelineParser(const ProjectConfig& project, std::vector<std::string>* errors)
      : project_(project), errors_(errors), jobs_(project, errors) {}

  void Error(const Location& loc, std::string message) { errors_->push_back(Prefix(loc) + message); }

  void CheckNotify(const Value& notify, std::string_view pipeline) {
    if (!notify.IsMap()) return;
    std::vector<std::string> defined = project_.notifications.Keys();
    for (const auto& [event, targets] : notify.entries()) {
      std::vector<const Value*> names;
      if (targets.IsScalar()) names.push_back(&targets);
      for (const auto& item : targets.items()) {
        if (item.IsScalar()) names.push_back(&item);
      }
      for (const Value* name : names) {
        if (std::find(defined.begin(), defined.end(), name->scalar()) != defined.end()) continue;
        Error(name->location(),
              fmt::format("notification '{}' (notify.{} of pipeline '{}') is not defined under notifications: in "
                          "sluice.yaml{}",
                          name->scalar(), event, pipeline,
                          internal::UndefinedNameHint(name->scalar(), defined, " (it has none)")));
      }
    }
  }

  Result<PipelineConfig> Load(const fs::path& file, const LoadOptions& options) {
    PipelineConfig config;
    std::error_code ec;
    config.file = fs::absolute(file, ec).lexically_normal();
    fs::path relative = config.file.lexically_relative(project_.root);
    std::string display =
        !relative.empty() && *relative.begin() != ".." ? relative.generic_string() : file.generic_string();
    config.location = Location{display, 0, 0};

    SLUICE_ASSIGN_OR_RETURN(Value doc, internal::ParseFileUnresolved(config.file, display, errors_));
    if (!doc.IsMap()) {
      Error(config.location, fmt::format("a pipeline file must be a map with at least source: and target: (or "
                                         "jobs:), got {}",
                                         doc.IsNull()   ? "an empty file"
                                         : doc.IsList() ? "a list"
                                                        : "a single value"));
      config.name = config.file.stem().string();
      return config;
    }
    config.location = doc.location();

    std::vector<OptionSpec> all_keys = PipelineKeys();
    for (const auto& spec : JobKeys()) {
      if (spec.key != "name" && spec.key != "description") all_keys.push_back(spec);
    }
    const std::string env = options.env.empty() ? project_.env : options.env;
    Value environments_section;
    if (const Value* e = doc.Find("environments")) environments_section = *e;
    config.environments =
        internal::ApplyEnvironment(&doc, env, fmt::format("pipeline file {}", display), all_keys, false, errors_);
    for (const auto& name : config.environments) {
      if (std::find(project_.environments.begin(), project_.environments.end(), name) != project_.environments.end()) {
        continue;
      }
      Error(environments_section.KeyLocation(name),
            fmt::format("environment '{}' is not defined in sluice.yaml{}; pipelines can only overlay the "
                        "project's environments",
                        name, internal::UndefinedNameHint(name, project_.environments, " (it has no environments:)")));
    }
    internal::ResolveReferences(&doc, ParseOptions{project_.root, options.redactor, options.getenv}, errors_);

    config.name = config.file.stem().string();
    if (const Value* name = doc.Find("name"); name != nullptr && name->IsScalar()) config.name = name->scalar();
    if (!internal::IsPlainName(config.name)) {
      Error(doc.Find("name") != nullptr ? doc.Find("name")->location() : config.location,
            fmt::format("pipeline name '{}' may only use letters, digits, '_', '-' and '.'", config.name));
    }
    const std::string owner = fmt::format("pipeline '{}'", config.name);
    if (const Value* d = doc.Find("description"); d != nullptr && d->IsScalar()) config.description = d->scalar();
    if (const Value* tags = doc.Find("tags"); tags != nullptr && !tags->IsNull()) {
      if (auto list = tags->AsStringList(); list.ok()) config.tags = *list;
    }
    if (const Value* t = doc.Find("triggers")) config.triggers = *t;
    if (const Value* n = doc.Find("notify")) config.notify = *n;
    CheckNotify(config.notify, config.name);

    std::vector<internal::ParsedJob> parsed;
    const Value* jobs = doc.Find("jobs");
    if (jobs == nullptr || jobs->IsNull()) {
      std::vector<OptionSpec> single_keys;
      for (const auto& spec : all_keys) {
        if (spec.key != "jobs" && spec.key != "environments") single_keys.push_back(spec);
      }
      ValidateOptions(doc, single_keys, owner, errors_);
      if (const Value* deps = doc.Find("depends_on"); deps != nullptr) {
        Error(doc.KeyLocation("depends_on"),
              fmt::format("depends_on in {} has no sibling jobs to wait for: it belongs inside jobs:; to run after "
                          "another pipeline use triggers: [{{ on_success: OTHER }}]",
                          owner));
      }
      internal::ParsedJob job = jobs_.ParseJob(doc, config.name, config.location, owner);
      job.refs.clear();
      job.job.depends_on.clear();
      job.job.depends_on_conditions.clear();
      parsed.push_back(std::move(job));
    } else {
      std::vector<OptionSpec> top_keys = PipelineKeys();
      std::vector<std::string> job_only;
      for (const auto& spec : JobKeys()) {
        if (spec.key == "name" || spec.key == "description") continue;
        job_only.push_back(spec.key);
        top_keys.push_back(OptionSpec{spec.key, OptionType::kAny, "", false, false, ""});
      }
      ValidateOptions(doc, top_keys, owner, errors_);
      std::vector<std::string> job_names;
      if (jobs->IsMap()) job_names = jobs->Keys();
      for (const auto& [key, value] : doc.entries()) {
        if (std::find(job_only.begin(), job_only.end(), key) == job_only.end()) continue;
        Error(doc.KeyLocation(key),
              fmt::format("key '{}' in {} belongs to a job: this pipeline has jobs:, so move it into one of them{}",
                          key, owner, job_names.empty() ? "" : fmt::format(" ({})", Join(job_names, ", "))));
      }
      parsed = ParseJobs(*jobs, config.name);
    }
    config.jobs = internal::OrderJobs(std::move(parsed), config.name, errors_);
    config.raw = std::move(doc);
    return config;
  }

  std::vector<internal::ParsedJob> ParseJobs(const Value& jobs, const std::string& pipeline) {
    std::vector<internal::ParsedJob> parsed;
    auto add = [&](const Value& value, const std::string& name, const Location& loc) {
      std::string owner = fmt::format("job '{}' of pipeline '{}'", name, pipeline);
      if (!internal::IsPlainName(name)) {
        Error(loc, fmt::format("job name '{}' in pipeline '{}' may only use letters, digits, '_', '-' and '.'", name,
                               pipeline));
      }
      for (const auto& p : parsed) {
        if (p.job.name == name) {
          Error(loc, fmt::format("pipeline '{}' has two jobs named '{}' (the other at line {}); rename one", pipeline,
                                 name, p.job.location.line));
        }
      }
      ValidateOptions(value, JobKeys(), owner, errors_);
      parsed.push_back(jobs_.ParseJob(value, name, loc, owner));
    };
    if (jobs.IsMap()) {
      for (const auto& [name, value] : jobs.entries()) {
        if (const Value* inner = value.Find("name"); inner != nullptr && inner->IsScalar() && inner->scalar() != name) {
          Error(inner->location(), fmt::format("job '{}' of pipeline '{}' also says name: '{}'; under a jobs: map the "
                                               "key is the name, so remove name: or make them equal",
                                               name, pipeline, inner->scalar()));
        }
        add(value, name, jobs.KeyLocation(name));
      }
    } else if (jobs.IsList()) {
      for (const auto& item : jobs.items()) {
        const Value* name = item.Find("name");
        if (name == nullptr || !name->IsScalar() || name->scalar().empty()) {
          Error(item.location(), fmt::format("{} of pipeline '{}' needs a name: (in a jobs: list every job names "
                                             "itself)",
                                             item.path(), pipeline));
          continue;
        }
        add(item, name->scalar(), item.location());
      }
    } else {
      Error(jobs.location(), fmt::format("jobs of pipeline '{}' must map job names to jobs, e.g. jobs: {{ extract: "
                                         "{{ source: ..., target: ... }} }}",
                                         pipeline));
    }
    if (parsed.empty() && (jobs.IsMap() || jobs.IsList()) && jobs.entries().empty() && jobs.items().empty()) {
      Error(jobs.location(), fmt::format("jobs of pipeline '{}' is empty; add at least one job", pipeline));
    }
    return parsed;
  }

 private:
  const ProjectConfig& project_;
  std::vector<std::string>* errors_;
  internal::JobParser jobs_;
};

std::vector<fs::path> PipelineFiles(const ProjectConfig& project, std::vector<std::string>* errors) {
  std::vector<fs::path> files;
  fs::path dir = project.root / "pipelines";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (StartsWith(name, ".")) continue;  // editor swap files and the like
    if (!EndsWith(name, ".yaml") && !EndsWith(name, ".yml")) continue;
    if (!it->is_regular_file(ec)) continue;
    files.push_back(it->path());
  }
  if (ec) errors->push_back(fmt::format("cannot list '{}': {}", dir.string(), ec.message()));
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

Result<PipelineConfig> LoadPipeline(const fs::path& file, const ProjectConfig& project, const LoadOptions& options) {
  std::vector<std::string> errors;
  PipelineParser parser(project, &errors);
  SLUICE_ASSIGN_OR_RETURN(PipelineConfig config, parser.Load(file, options));
  if (!errors.empty()) return ErrorsToStatus(errors);
  return config;
}

Result<std::vector<PipelineConfig>> LoadPipelines(const ProjectConfig& project, const LoadOptions& options) {
  std::vector<std::string> errors;
  std::vector<PipelineConfig> pipelines;
  for (const auto& file : PipelineFiles(project, &errors)) {
    PipelineParser parser(project, &errors);
    auto loaded = parser.Load(file, options);
    if (!loaded.ok()) {
      errors.push_back(loaded.status().message());
      continue;
    }
    for (const auto& other : pipelines) {
      if (other.name != loaded->name) continue;
      errors.push_back(
          fmt::format("{}pipeline name '{}' is used by both {} and {}; names must be unique (change "
                      "name: in one of them)",
                      Prefix(loaded->location), loaded->name, other.location.file, loaded->location.file));
    }
    pipelines.push_back(std::move(loaded).value());
  }
  if (!errors.empty()) return ErrorsToStatus(errors);
  std::stable_sort(pipelines.begin(), pipelines.end(),
                   [](const PipelineConfig& a, const PipelineConfig& b) { return a.name < b.name; });
  return pipelines;
}

}  // namespace sluice::config
