#include "pipeline/window_jobs.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <tuple>

#include "common/strings.hpp"
#include "connectors/window_state.hpp"
#include "pipeline/job_runner.hpp"
#include "pipeline/pipeline_lock.hpp"
#include "pipeline/source_binding.hpp"

namespace sluice::pipeline {
namespace {

catalog::WindowJob NewRow(const std::string& pipeline, const std::string& job) {
  catalog::WindowJob row;
  row.pipeline = pipeline;
  row.job = job;
  return row;
}

std::string Where(const std::string& pipeline, const std::string& job) {
  return fmt::format("window job '{}' of pipeline '{}'", job, pipeline);
}

/// A map with `key` set to `value` (replacing an entry of that name, else appended).
config::Value WithEntry(const config::Value& map, const std::string& key, const std::string& value) {
  std::vector<std::pair<std::string, config::Value>> entries;
  if (map.IsMap()) entries = map.entries();
  config::Value scalar = config::Value::Scalar(value, map.location(), config::ChildPath(map.path(), key));
  bool replaced = false;
  for (auto& [k, v] : entries) {
    if (k == key) {
      v = scalar;
      replaced = true;
    }
  }
  if (!replaced) entries.emplace_back(key, scalar);
  return config::Value::Map(std::move(entries), map.location(), map.path());
}

/// The pipeline's job that catalog-only jobs are copies of: the first `mode: window` job whose source names a
/// connection.
const config::JobConfig* WindowTemplate(const config::PipelineConfig& pipeline) {
  for (const auto& job : pipeline.jobs) {
    bool reads_database = job.source.IsMap() && job.source.Find("connection") != nullptr;
    if (job.mode == config::LoadMode::kWindow && reads_database) return &job;
  }
  return nullptr;
}

config::Value PartitioningWith(config::Value partitioning, const catalog::WindowJob& row) {
  if (!row.partition_by.empty()) partitioning = WithEntry(partitioning, "column", row.partition_by);
  if (row.lower_bound) partitioning = WithEntry(partitioning, "lower_bound", std::to_string(*row.lower_bound));
  if (row.upper_bound) partitioning = WithEntry(partitioning, "upper_bound", std::to_string(*row.upper_bound));
  if (row.num_partitions) partitioning = WithEntry(partitioning, "num_partitions", std::to_string(*row.num_partitions));
  return partitioning;
}

Result<config::JobConfig> CatalogOnlyJob(const config::PipelineConfig& pipeline, const catalog::WindowJob& row) {
  const config::JobConfig* base = WindowTemplate(pipeline);
  if (base == nullptr) {
    return Status::Invalid(
        "{} exists only in the catalog, but pipeline '{}' ({}) no longer has a mode: window job whose source names a "
        "connection to copy it from; add one back, or remove the pipeline's jobs from the catalog",
        Where(row.pipeline, row.job), pipeline.name, pipeline.file.string());
  }
  config::JobConfig job = *base;
  config::Location at{fmt::format("catalog job {}/{}", row.pipeline, row.job), 0, 0};
  std::string path = "jobs." + row.job;
  job.name = row.job;
  job.location = at;
  job.description = fmt::format("window job added with `sluice jobs add`, reading {}", row.source_table);
  job.depends_on.clear();
  job.depends_on_conditions.clear();
  job.source = config::Value::Map({{"connection", *base->source.Find("connection")},
                                   {"table", config::Value::Scalar(row.source_table, at, path + ".source.table")}},
                                  at, path + ".source");
  job.window = config::Value::Map({{"column", config::Value::Scalar(row.column, at)},
                                   {"start", config::Value::Scalar(row.first_start, at)},
                                   {"stop", config::Value::Scalar(row.first_stop, at)},
                                   {"step", config::Value::Scalar(row.step, at)}},
                                  at, path + ".window");
  job.partitioning = row.partition_by.empty()
                         ? config::Value()
                         : PartitioningWith(config::Value::Map({}, at, path + ".partitioning"), row);
  job.mask = config::Value();
  job.steps = config::Value();
  job.checks = config::Value();
  job.primary_key.clear();
  job.target.table = row.target_table;
  job.target.partition_by.clear();
  return job;
}

std::string PartitioningText(const config::Value& p) {
  if (!p.IsMap()) return "";
  auto text = [&](const char* key) {
    const auto* v = p.Find(key);
    return v != nullptr && v->IsScalar() ? v->scalar() : std::string("?");
  };
  return fmt::format("{} {}..{} in {}", text("column"), text("lower_bound"), text("upper_bound"),
                     p.Find("num_partitions") != nullptr ? text("num_partitions") : std::string("1"));
}

std::string WindowText(const config::JobConfig& job, const char* key) {
  const auto* v = job.window.IsMap() ? job.window.Find(key) : nullptr;
  return v != nullptr && v->IsScalar() ? v->scalar() : "";
}

/// (status, run id) of the newest recorded run of the job, among the pipeline's latest runs.
std::pair<std::string, std::string> LastRun(const std::vector<catalog::RunRecord>& runs, const std::string& job) {
  for (const auto& run : runs) {
    auto details = nlohmann::json::parse(run.details_json, nullptr, false);
    if (details.is_discarded() || !details.contains("jobs")) continue;
    for (const auto& j : details["jobs"]) {
      if (j.value("job", "") == job) return {j.value("status", ""), run.id.value};
    }
  }
  return {"", ""};
}

Status ValidateStep(const std::string& step, const std::string& where) {
  static const std::vector<std::string> kUnits = {
      "microsecond",  "millisecond",  "second",  "minute",  "hour",  "day",  "week",  "month",  "year",
      "microseconds", "milliseconds", "seconds", "minutes", "hours", "days", "weeks", "months", "years",
      "us",           "ms",           "s",       "sec",     "secs",  "m",    "min",   "mins",   "h",
      "hr",           "hrs",          "d",       "w",       "mon",   "mons", "y"};
  std::string text = Trim(step);
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  std::string unit = Trim(text.substr(digits));
  bool ok = digits > 0 && text.substr(0, digits) != std::string(digits, '0') &&
            (unit.empty() || std::find(kUnits.begin(), kUnits.end(), ToLower(unit)) != kUnits.end());
  if (!ok) {
    return Status::Invalid(
        "{}: step '{}' is not a positive whole number (integer window columns) or an interval such as "
        "1 day, 1d, 6 hours, 1 month",
        where, step);
  }
  return Status::OK();
}

Status ValidateWindow(const std::string& start, const std::string& stop, const std::string& where) {
  auto order = CompareWindowBounds(start, stop);
  if (!order) {
    return Status::Invalid(
        "{}: window bounds '{}' and '{}' must both be whole numbers, or both dates or timestamps "
        "(YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)",
        where, start, stop);
  }
  if (*order >= 0) return Status::Invalid("{}: the window's stop {} must be after its start {}", where, stop, start);
  return Status::OK();
}

/// The job's source checks its window: and partitioning: as it does before every run (binding plans
/// without connecting), so `jobs add` and `jobs set` refuse what a run would refuse, by the source's rules.
Status CheckSourceAccepts(const Workspace& workspace, const config::PipelineConfig& pipeline,
                          const config::JobConfig& job, const std::string& where) {
  auto bound = BindJobSource(workspace, pipeline, job);
  if (!bound.ok()) return Status::Invalid("{}: {}", where, bound.status().message());
  return Status::OK();
}

bool IsIdentifier(const std::string& name) {
  return !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
                  c == '_';
         });
}

/// The pipeline's window job `job` after the catalog's changes (and the row those come from).
struct EffectiveJob {
  config::PipelineConfig pipeline;
  size_t index = 0;
  std::optional<catalog::WindowJob> row;
  const config::JobConfig& job() const { return pipeline.jobs[index]; }
};

Result<EffectiveJob> FindWindowJob(catalog::MetadataStore& catalog, const config::PipelineConfig& pipeline,
                                   const std::string& job) {
  EffectiveJob found;
  SLUICE_ASSIGN_OR_RETURN(found.pipeline, WithCatalogWindowJobs(catalog, pipeline));
  std::vector<std::string> names;
  bool exists = false;
  for (size_t i = 0; i < found.pipeline.jobs.size(); ++i) {
    const auto& j = found.pipeline.jobs[i];
    if (j.name == job) {
      found.index = i;
      exists = true;
    }
    if (j.mode == config::LoadMode::kWindow) names.push_back(j.name);
  }
  if (!exists) {
    std::string hint = NearestWord(job, names);
    return Status::NotFound("pipeline '{}' has no job '{}'{}; its window jobs: {}", pipeline.name, job,
                            hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint),
                            names.empty() ? "(none)" : Join(names, ", "));
  }
  if (found.job().mode != config::LoadMode::kWindow) {
    return Status::Invalid("job '{}' of pipeline '{}' uses mode: {}; only mode: window jobs have a window to set", job,
                           pipeline.name, config::ToString(found.job().mode));
  }
  SLUICE_ASSIGN_OR_RETURN(auto rows, catalog.ListWindowJobs(pipeline.name));
  for (auto& r : rows) {
    if (r.job == job) found.row = std::move(r);
  }
  return found;
}

void ApplyDefinitionChange(catalog::WindowJob* row, const WindowJobChange& change) {
  if (change.step) row->step = *change.step;
  if (change.partition_by) row->partition_by = *change.partition_by;
  if (change.lower_bound) row->lower_bound = change.lower_bound;
  if (change.upper_bound) row->upper_bound = change.upper_bound;
  if (change.num_partitions) row->num_partitions = change.num_partitions;
}

/// "YYYY-MM-DD[ |T]HH:MM[:SS[.ffffff]]" as comparable numbers; nullopt when it is not one.
std::optional<std::tuple<int, int, int, int, int, int, int64_t>> ParseTimestamp(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, used = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3 || used != 10) return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  std::string rest = text.substr(10);
  int64_t micros = 0;
  if (!rest.empty() && (rest[0] == ' ' || rest[0] == 'T')) {
    int n = 0;
    if (std::sscanf(rest.c_str() + 1, "%2d:%2d%n", &h, &mi, &n) != 2) return std::nullopt;
    size_t pos = 1 + static_cast<size_t>(n);
    if (pos < rest.size() && rest[pos] == ':') {
      int m = 0;
      if (std::sscanf(rest.c_str() + pos + 1, "%2d%n", &s, &m) != 1) return std::nullopt;
      pos += 1 + static_cast<size_t>(m);
      if (pos < rest.size() && rest[pos] == '.') {
        std::string digits;
        for (++pos; pos < rest.size() && std::isdigit(static_cast<unsigned char>(rest[pos])); ++pos)
          digits += rest[pos];
        digits = (digits + "000000").substr(0, 6);
        micros = std::stoll(digits);
      }
    }
    rest = rest.substr(pos);
  }
  // What may follow is a time zone (+01, Z, UTC); anything else is not a timestamp.
  std::string zone = Trim(rest);
  if (!zone.empty() && zone[0] != '+' && zone[0] != '-' && zone != "Z" && zone != "UTC") return std::nullopt;
  if (h > 24 || mi > 59 || s > 60) return std::nullopt;
  return std::make_tuple(y, mo, d, h, mi, s, micros);
}

std::optional<int64_t> ParseWhole(const std::string& text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<int> CompareWindowBounds(const std::string& a, const std::string& b) {
  auto ia = ParseWhole(Trim(a)), ib = ParseWhole(Trim(b));
  if (ia && ib) return *ia < *ib ? -1 : (*ia == *ib ? 0 : 1);
  auto ta = ParseTimestamp(Trim(a)), tb = ParseTimestamp(Trim(b));
  if (ta && tb) return *ta < *tb ? -1 : (*ta == *tb ? 0 : 1);
  return std::nullopt;
}

Result<config::PipelineConfig> WithCatalogWindowJobs(catalog::MetadataStore& catalog,
                                                     const config::PipelineConfig& pipeline) {
  SLUICE_ASSIGN_OR_RETURN(auto rows, catalog.ListWindowJobs(pipeline.name));
  config::PipelineConfig effective = pipeline;
  for (const auto& row : rows) {
    auto it = std::find_if(effective.jobs.begin(), effective.jobs.end(),
                           [&](const config::JobConfig& j) { return j.name == row.job; });
    if (row.catalog_only()) {
      if (it != effective.jobs.end()) {
        return Status::Invalid(
            "{} was added with `sluice jobs add`, but {} now defines a job of that name too; rename "
            "one of them",
            Where(row.pipeline, row.job), pipeline.file.string());
      }
      SLUICE_ASSIGN_OR_RETURN(auto job, CatalogOnlyJob(pipeline, row));
      effective.jobs.push_back(std::move(job));
      continue;
    }
    if (it == effective.jobs.end() || it->mode != config::LoadMode::kWindow) {
      spdlog::warn(
          "the catalog holds window settings for job '{}' of pipeline '{}', which {} no longer defines as a "
          "mode: window job; they are ignored",
          row.job, pipeline.name, pipeline.file.string());
      continue;
    }
    if (!row.step.empty()) it->window = WithEntry(it->window, "step", row.step);
    if (!row.partition_by.empty() || row.lower_bound || row.upper_bound || row.num_partitions) {
      config::Value base =
          it->partitioning.IsMap() ? it->partitioning : config::Value::Map({}, it->location, "partitioning");
      it->partitioning = PartitioningWith(base, row);
    }
  }
  return effective;
}

Result<std::vector<WindowJobListing>> ListWindowJobs(catalog::MetadataStore& catalog,
                                                     const std::vector<config::PipelineConfig>& pipelines,
                                                     const std::string& pipeline_filter) {
  std::vector<WindowJobListing> listings;
  bool pipeline_found = pipeline_filter.empty();
  for (const auto& file_pipeline : pipelines) {
    if (!pipeline_filter.empty() && file_pipeline.name != pipeline_filter) continue;
    pipeline_found = true;
    SLUICE_ASSIGN_OR_RETURN(auto pipeline, WithCatalogWindowJobs(catalog, file_pipeline));
    SLUICE_ASSIGN_OR_RETURN(auto rows, catalog.ListWindowJobs(pipeline.name));
    SLUICE_ASSIGN_OR_RETURN(auto runs, catalog.ListRuns(100, pipeline.name));
    for (const auto& job : pipeline.jobs) {
      if (job.mode != config::LoadMode::kWindow) continue;
      WindowJobListing l;
      l.pipeline = pipeline.name;
      l.job = job.name;
      auto row = std::find_if(rows.begin(), rows.end(), [&](const catalog::WindowJob& r) { return r.job == job.name; });
      l.defined_in = row == rows.end() ? "pipeline file" : row->catalog_only() ? "catalog" : "pipeline file + catalog";
      l.source_table =
          job.source.IsMap() && job.source.Find("table") != nullptr ? job.source.Find("table")->scalar() : "(query)";
      l.target_table = job.target.zone + "." + job.target.table;
      l.column = WindowText(job, "column");
      l.step = WindowText(job, "step");
      l.partitioning = PartitioningText(job.partitioning);
      SLUICE_ASSIGN_OR_RETURN(auto state, catalog.GetState(JobStateScope(pipeline.name, job.name), kSourceStateKey));
      auto window = connectors::WindowState::Parse(state.value_or(""));
      l.stored_window = window.ok() && window->start.has_value();
      l.start = l.stored_window ? *window->start : WindowText(job, "start");
      l.stop = l.stored_window ? window->stop.value_or("") : WindowText(job, "stop");
      std::tie(l.last_status, l.last_run) = LastRun(runs, job.name);
      listings.push_back(std::move(l));
    }
  }
  if (!pipeline_found) {
    std::vector<std::string> names;
    for (const auto& p : pipelines) names.push_back(p.name);
    std::string hint = NearestWord(pipeline_filter, names);
    return Status::NotFound("no pipeline named '{}'{}", pipeline_filter,
                            hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint));
  }
  return listings;
}

Status SetWindowJob(Workspace& workspace, const config::PipelineConfig& pipeline, const std::string& job,
                    const WindowJobChange& change) {
  std::string where = Where(pipeline.name, job);
  if (change.source_table || change.target_table || change.column) {
    return Status::Invalid(
        "{}: the table and window column of a job are not changed with `jobs set`; edit {} (or, for "
        "a job added with `jobs add`, add a new one)",
        where, pipeline.file.string());
  }
  auto& catalog = workspace.catalog();
  SLUICE_ASSIGN_OR_RETURN(auto found, FindWindowJob(catalog, pipeline, job));
  catalog::WindowJob row = found.row.value_or(NewRow(pipeline.name, job));
  bool definition_changed =
      change.step || change.partition_by || change.lower_bound || change.upper_bound || change.num_partitions;
  ApplyDefinitionChange(&row, change);
  if (change.step) SLUICE_TRY(ValidateStep(*change.step, where));
  config::Value partitioning = found.job().partitioning;
  if (definition_changed && (!row.partition_by.empty() || row.lower_bound || row.upper_bound || row.num_partitions)) {
    partitioning = PartitioningWith(partitioning.IsMap() ? partitioning : config::Value::Map({}), row);
  }
  config::JobConfig changed = found.job();
  changed.partitioning = partitioning;
  SLUICE_TRY(CheckSourceAccepts(workspace, found.pipeline, changed, where));

  std::vector<catalog::StateUpdate> state;
  if (change.start || change.stop) {
    std::string scope = JobStateScope(pipeline.name, job);
    SLUICE_ASSIGN_OR_RETURN(auto stored, catalog.GetState(scope, kSourceStateKey));
    auto window = connectors::WindowState::Parse(stored.value_or(""));
    if (!window.ok()) return window.status().WithContext("{}: the stored window", where);
    std::string start = change.start.value_or(window->start.value_or(WindowText(found.job(), "start")));
    std::string stop =
        change.stop.value_or(window->start ? window->stop.value_or("") : WindowText(found.job(), "stop"));
    SLUICE_TRY(ValidateWindow(start, stop, where));
    window->start = start;
    window->stop = stop;
    state.push_back({scope, kSourceStateKey, window->ToJson()});
  }
  if (!definition_changed && state.empty()) {
    return Status::Invalid(
        "{}: nothing to change; give --start, --stop, --step, --partition-by, --lower-bound, "
        "--upper-bound or --num-partitions",
        where);
  }
  // A run commits the window it read when it ends; changing it meanwhile would be overwritten.
  SLUICE_ASSIGN_OR_RETURN(auto lock, PipelineLock::TryAcquire(workspace.state_dir() / "locks", pipeline.name));
  if (!definition_changed) {
    catalog::CommitRequest commit;
    commit.pipeline = pipeline.name;
    commit.job = job;
    commit.state = std::move(state);
    return catalog.Commit(commit).status();
  }
  return catalog.PutWindowJob(row, state);
}

Status AddWindowJob(Workspace& workspace, const config::PipelineConfig& pipeline, const std::string& job,
                    const WindowJobChange& change) {
  std::string where = Where(pipeline.name, job);
  if (!IsIdentifier(job)) {
    return Status::Invalid("{}: a job name is lower-case letters, digits and '_', starting with a letter", where);
  }
  auto& catalog = workspace.catalog();
  SLUICE_ASSIGN_OR_RETURN(auto effective, WithCatalogWindowJobs(catalog, pipeline));
  for (const auto& j : effective.jobs) {
    if (j.name == job) {
      return Status::Invalid("pipeline '{}' already has a job '{}'; change it with `sluice jobs set {} {} …`",
                             pipeline.name, job, pipeline.name, job);
    }
  }
  if (WindowTemplate(pipeline) == nullptr) {
    return Status::Invalid(
        "{}: pipeline '{}' ({}) has no mode: window job whose source names a connection; a job added "
        "with `jobs add` reads through that job's connection and writes to its zone",
        where, pipeline.name, pipeline.file.string());
  }
  catalog::WindowJob row = NewRow(pipeline.name, job);
  row.source_table = Trim(change.source_table.value_or(""));
  auto parts = Split(row.source_table, '.');
  if (parts.size() != 2 || Trim(parts[0]).empty() || Trim(parts[1]).empty()) {
    return Status::Invalid("{}: --table '{}' must be schema.table (e.g. public.loans)", where, row.source_table);
  }
  row.target_table = change.target_table.value_or(Trim(parts[1]));
  if (!IsIdentifier(row.target_table)) {
    return Status::Invalid(
        "{}: lake table name '{}' must be lower-case letters, digits and '_'; choose one with "
        "--target-table",
        where, row.target_table);
  }
  row.column = change.column.value_or("");
  if (row.column.empty()) return Status::Invalid("{}: give the window column with --column", where);
  if (!change.start || !change.stop || !change.step) {
    return Status::Invalid("{}: give the first window with --start and --stop, and its rotation with --step", where);
  }
  row.first_start = *change.start;
  row.first_stop = *change.stop;
  SLUICE_TRY(ValidateWindow(row.first_start, row.first_stop, where));
  ApplyDefinitionChange(&row, change);
  SLUICE_TRY(ValidateStep(row.step, where));
  if (row.partition_by.empty() && (row.lower_bound || row.upper_bound || row.num_partitions)) {
    return Status::Invalid("{}: --lower-bound, --upper-bound and --num-partitions need --partition-by", where);
  }
  SLUICE_ASSIGN_OR_RETURN(config::JobConfig added, CatalogOnlyJob(pipeline, row));
  SLUICE_TRY(CheckSourceAccepts(workspace, pipeline, added, where));
  SLUICE_ASSIGN_OR_RETURN(auto lock, PipelineLock::TryAcquire(workspace.state_dir() / "locks", pipeline.name));
  return catalog.PutWindowJob(row, {});
}

Status RemoveWindowJob(Workspace& workspace, const config::PipelineConfig& pipeline, const std::string& job) {
  for (const auto& j : pipeline.jobs) {
    if (j.name == job) {
      return Status::Invalid(
          "job '{}' of pipeline '{}' is defined in {}; remove it from that file (`jobs remove` "
          "removes jobs added with `sluice jobs add`)",
          job, pipeline.name, pipeline.file.string());
    }
  }
  auto& catalog = workspace.catalog();
  SLUICE_ASSIGN_OR_RETURN(auto rows, catalog.ListWindowJobs(pipeline.name));
  if (std::none_of(rows.begin(), rows.end(), [&](const catalog::WindowJob& row) { return row.job == job; })) {
    return Status::NotFound(
        "pipeline '{}' has no job '{}' added with `sluice jobs add`; `sluice jobs list {}` lists its "
        "window jobs",
        pipeline.name, job, pipeline.name);
  }
  SLUICE_ASSIGN_OR_RETURN(auto lock, PipelineLock::TryAcquire(workspace.state_dir() / "locks", pipeline.name));
  // Read under the lock: no run can add state to the scope meanwhile.
  std::string scope = JobStateScope(pipeline.name, job);
  SLUICE_ASSIGN_OR_RETURN(auto stored, catalog.ListState(scope));
  std::vector<catalog::StateUpdate> forget;
  for (const auto& [key, value] : stored) forget.push_back({scope, key, std::nullopt});
  return catalog.RemoveWindowJob(pipeline.name, job, forget);
}

}  // namespace sluice::pipeline
