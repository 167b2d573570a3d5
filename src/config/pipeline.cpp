#include "config/pipeline.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "common/strings.hpp"
#include "config/document.hpp"

namespace sluice::config {

namespace fs = std::filesystem;
using internal::Prefix;

namespace {

const std::vector<std::string> kModes = {"full", "incremental", "window", "changes", "cdc"};
const std::vector<std::string> kDeletes = {"ignore", "mark", "apply"};
const std::vector<std::string> kOnError = {"fail", "quarantine"};
const std::vector<std::string> kWrites = {"append", "overwrite", "overwrite_partitions", "merge"};
const std::vector<std::string> kZones = {"raw", "silver", "gold"};
const std::vector<std::string> kConditions = {"success", "failure", "always"};

}  // namespace

const std::vector<OptionSpec>& JobKeys() {
  static const std::vector<OptionSpec> kKeys = {
      {"name", OptionType::kString, "", false, false,
       "name of the job; under a jobs: map the key is the name, in a jobs: list each job needs one"},
      {"description", OptionType::kString, "", false, false, "free text shown in `sluice validate` and the UI"},
      {"source", OptionType::kMap, "", false, false,
       "what to read: type: NAME (a connector such as files, http, postgres), connection: NAME (a connection of "
       "sluice.yaml) or table: zone.name (a lake table); the other keys belong to the connector "
       "(docs/connectors/); every job but a sql: job needs one"},
      {"mode", OptionType::kString, "full", false, false,
       "full (everything each run) | incremental (new rows/files since the last run) | window (the stored "
       "window, then the next) | changes (changed rows of a table) | cdc (the database's change log)"},
      {"primary_key", OptionType::kStringList, "", false, false,
       "columns identifying a row; needed by changes, cdc, deletes: mark and write: merge"},
      {"deletes", OptionType::kString, "ignore", false, false,
       "ignore | mark (rows deleted at the source are loaded with _change_type = delete) | apply (write: merge into a "
       "database: rows with _change_type = delete delete the target's row)"},
      {"on_error", OptionType::kString, "fail", false, false,
       "fail | quarantine (bad rows go to the table TABLE__rejects of the same zone and the run continues)"},
      {"window", OptionType::kMap, "", false, false,
       "for mode: window: column, start, stop, step (the window moves on by step after each successful run)"},
      {"partitioning", OptionType::kMap, "", false, false,
       "parallel reads inside one snapshot: column, lower_bound, upper_bound, num_partitions"},
      {"mask", OptionType::kMap, "", false, false,
       "column: hash | redact; also writes a masked copy of the table with these columns protected"},
      {"steps", OptionType::kList, "", false, false,
       "transforms applied in order, e.g. - clean: {...}, - add_columns: {...}, - sql: ..."},
      {"checks", OptionType::kList, "", false, false,
       "data quality checks run before the commit, e.g. - not_null: [a, b], - unique: [id]"},
      {"schema", OptionType::kAny, "", false, false, "expected columns and types of the result"},
      {"target", OptionType::kMap, "", false, false,
       "where the result goes: zone, table, ... (keys below) for the lake; connection: (a database) or type: (files) "
       "for a sink outside it; every job but a sql: job needs one"},
      {"sql", OptionType::kMap, "", false, false,
       "instead of source: and target:, run SQL on a database in one transaction: connection: NAME and file: PATH "
       "or script: \"...\" (keys below)"},
      {"depends_on", OptionType::kAny, "", false, false,
       "jobs of the same pipeline to run first: a name, a list of names, or items {job: NAME, condition: "
       "success | failure | always}; default condition success"},
      {"options", OptionType::kMap, "", false, false, "engine settings for this job (e.g. memory_limit, threads)"},
      {"retries", OptionType::kInt, "0", false, false, "how often a failed run is retried (retryable errors only)"},
      {"timeout", OptionType::kDuration, "", false, false, "a run taking longer is cancelled, e.g. 30m, 2h"},
      {"cdc", OptionType::kMap, "", false, false,
       "for mode: cdc: slot, publication, commit_every, max_rows, max_bytes, heartbeat (docs/connectors/postgres-cdc.md)"},
  };
  return kKeys;
}

const std::vector<OptionSpec>& PipelineKeys() {
  static const std::vector<OptionSpec> kKeys = {
      {"name", OptionType::kString, "", false, false,
       "name of the pipeline (letters, digits, '_', '-', '.'), unique in the project; default: the file name "
       "without .yaml"},
      {"description", OptionType::kString, "", false, false, "free text shown in `sluice validate` and the UI"},
      {"triggers", OptionType::kList, "", false, false,
       "when the pipeline runs: - schedule: CRON, - file_arrival: {...}, - on_success: PIPELINE, - webhook: true, "
       "- on_demand: true"},
      {"notify", OptionType::kMap, "", false, false,
       "on_success / on_failure: lists of notification names from sluice.yaml"},
      {"jobs", OptionType::kAny, "", false, false,
       "several jobs: a map of job name -> job keys (or a list of jobs with name:)"},
      {"environments", OptionType::kMap, "", false, false,
       "overlays of this file chosen with --env NAME (the name must exist in sluice.yaml)"},
      {"tags", OptionType::kStringList, "", false, false, "labels for filtering in the CLI and UI"},
  };
  return kKeys;
}

const std::vector<OptionSpec>& TargetKeys() {
  static const std::vector<OptionSpec> kKeys = {
      {"zone", OptionType::kString, "", true, false, "raw | silver | gold"},
      {"table", OptionType::kString, "", false, false,
       "table name inside the zone (letters, digits, '_'); SQL sees it as zone.table; required except for mode: cdc, "
       "where each source table lands in the table of its name"},
      {"partition_by", OptionType::kStringList, "", false, false, "columns whose values become folders col=value/"},
      {"write", OptionType::kString, "append", false, false,
       "append | overwrite (replace the table) | overwrite_partitions (replace the partitions written) | merge "
       "(upsert by primary_key)"},
      {"file_size", OptionType::kByteSize, "", false, false, "target size of each Parquet file, e.g. 256MB"},
      {"location", OptionType::kString, "", false, false,
       "folder of the table's files relative to the lake, instead of the standard layout"},
      {"schema_evolution", OptionType::kString, "fail", false, false,
       "an incompatible column type change between runs: fail (the run fails, naming the column) | evolve (the "
       "column widens to a common type, else text) | quarantine (rows whose value does not fit the table's type go "
       "to TABLE__rejects). New columns and safe widenings (int -> bigint, float -> double, int -> decimal/double) "
       "are always applied"},
      {"add_metadata_columns", OptionType::kBool, "", false, false,
       "add _source_file, _loaded_at (and _change_type for change loads); on by default in the raw zone"},
  };
  return kKeys;
}

const std::vector<OptionSpec>& SqlJobKeys() {
  static const std::vector<OptionSpec> kKeys = {
      {"connection", OptionType::kString, "", true, false,
       "a database connection of sluice.yaml (connections: NAME with type: postgres)"},
      {"file", OptionType::kString, "", false, false,
       "a file of SQL statements separated by ';', relative to the project folder; or script:"},
      {"script", OptionType::kString, "", false, false, "the SQL statements inline, instead of file:"},
  };
  return kKeys;
}

const JobConfig* PipelineConfig::FindJob(std::string_view job) const {
  for (const auto& j : jobs) {
    if (j.name == job) return &j;
  }
  return nullptr;
}

namespace {

struct DependencyRef {
  std::string job;
  Location location;
};

struct ParsedJob {
  JobConfig job;
  std::vector<DependencyRef> refs;
};

class PipelineParser {
 public:
  PipelineParser(const ProjectConfig& project, std::vector<std::string>* errors) : project_(project), errors_(errors) {}

  void Error(const Location& loc, std::string message) { errors_->push_back(Prefix(loc) + message); }

  /// `value` must be one of `allowed`; leaves *out alone when absent.
  void Choice(const Value* value, std::string_view key, std::string_view owner, const std::vector<std::string>& allowed,
              std::string* out) {
    if (value == nullptr || !value->IsScalar()) return;  // wrong types are reported by ValidateOptions
    std::string text = value->scalar();
    if (std::find(allowed.begin(), allowed.end(), text) != allowed.end()) {
      *out = std::move(text);
      return;
    }
    std::string nearest = NearestWord(text, allowed);
    Error(value->location(), fmt::format("{} '{}' of {} is not one of {}{}", key, text, owner, Join(allowed, ", "),
                                         nearest.empty() ? "" : fmt::format(" (did you mean '{}'?)", nearest)));
  }

  template <typename T>
  bool Read(const Result<T>& result, T* out) {
    if (!result.ok()) {
      errors_->push_back(result.status().message());
      return false;
    }
    *out = *result;
    return true;
  }

  TargetConfig ParseTarget(const Value* value, std::string_view owner, const std::string& mode) {
    TargetConfig target;
    if (value == nullptr || !value->IsMap()) return target;
    target.raw = *value;
    if (value->Find("connection") != nullptr || value->Find("type") != nullptr) {
      // A sink outside the lake: its own option specs validate the rest when it is bound.
      if (const Value* connection = value->Find("connection"); connection != nullptr && connection->IsScalar()) {
        target.connection = connection->scalar();
      }
      if (const Value* type = value->Find("type"); type != nullptr && type->IsScalar()) target.type = type->scalar();
      if (const Value* write = value->Find("write"); write != nullptr && write->IsScalar()) target.write = write->scalar();
      if (const Value* table = value->Find("table"); table != nullptr && table->IsScalar()) target.table = table->scalar();
      target.zone = "raw";  // where rows set aside (TABLE__rejects) go
      return target;
    }
    ValidateOptions(*value, TargetKeys(), fmt::format("target of {}", owner), errors_);
    if (const Value* table = value->Find("table"); (table == nullptr || table->IsNull()) && mode != "cdc") {
      Error(value->location(), fmt::format("missing required key 'table' in target of {} (table name inside the zone)", owner));
    }
    Choice(value->Find("zone"), "zone", fmt::format("target of {}", owner), kZones, &target.zone);
    if (const Value* table = value->Find("table"); table != nullptr && table->IsScalar()) {
      target.table = table->scalar();
      bool plain = !target.table.empty() && std::all_of(target.table.begin(), target.table.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
      });
      if (!plain) {
        size_t dot = target.table.find('.');
        std::string hint = dot == std::string::npos
                               ? "use letters, digits and '_'"
                               : fmt::format("write zone: {} and table: {}", target.table.substr(0, dot),
                                             target.table.substr(dot + 1));
        Error(table->location(),
              fmt::format("table '{}' in target of {} is not a plain table name; {}", target.table, owner, hint));
      }
    }
    if (const Value* partition_by = value->Find("partition_by"); partition_by != nullptr && !partition_by->IsNull()) {
      if (auto columns = partition_by->AsStringList(); columns.ok()) target.partition_by = *columns;
    }
    Choice(value->Find("write"), "write", fmt::format("target of {}", owner), kWrites, &target.write);
    return target;
  }

  std::vector<DependencyRef> ParseDependsOn(const Value* value, std::string_view owner, JobConfig* job) {
    std::vector<DependencyRef> refs;
    if (value == nullptr || value->IsNull()) return refs;
    std::vector<const Value*> items;
    if (value->IsList()) {
      for (const auto& item : value->items()) items.push_back(&item);
    } else {
      items.push_back(value);
    }
    static const std::vector<OptionSpec> kItemKeys = {
        {"job", OptionType::kString, "", true, false, "name of a job of this pipeline"},
        {"condition", OptionType::kString, "success", false, false, "success | failure | always"},
    };
    for (const Value* item : items) {
      std::string name;
      std::string condition = "success";
      if (item->IsScalar()) {
        name = item->scalar();
      } else if (item->IsMap()) {
        ValidateOptions(*item, kItemKeys, fmt::format("depends_on of {}", owner), errors_);
        if (const Value* j = item->Find("job"); j != nullptr && j->IsScalar()) name = j->scalar();
        Choice(item->Find("condition"), "condition", fmt::format("depends_on of {}", owner), kConditions, &condition);
      } else {
        Error(item->location(), fmt::format("depends_on of {} must list job names or items {{job: NAME, condition: "
                                            "success | failure | always}}, got {}",
                                            owner, item->IsList() ? "a nested list" : "nothing"));
        continue;
      }
      if (name.empty()) continue;
      if (std::find(job->depends_on.begin(), job->depends_on.end(), name) != job->depends_on.end()) continue;
      job->depends_on.push_back(name);
      job->depends_on_conditions.emplace_back(name, condition);
      refs.push_back(DependencyRef{name, item->location()});
    }
    return refs;
  }

  /// Reads a job map that ValidateOptions has already checked against its key table.
  ParsedJob ParseJob(const Value& value, std::string name, Location location, std::string_view owner) {
    ParsedJob parsed;
    JobConfig& job = parsed.job;
    job.name = std::move(name);
    job.location = std::move(location);
    job.raw = value;
    if (!value.IsMap()) return parsed;
    if (const Value* d = value.Find("description"); d != nullptr && d->IsScalar()) job.description = d->scalar();

    if (const Value* source = value.Find("source"); source != nullptr && source->IsMap()) {
      job.source = *source;
      if (source->Find("type") == nullptr && source->Find("connection") == nullptr &&
          source->Find("table") == nullptr) {
        Error(source->location(),
              fmt::format("source of {} needs type: (a connector such as files, http, postgres), connection: (a "
                          "name under connections: in sluice.yaml) or table: zone.name (a lake table)",
                          owner));
      }
    }
    Choice(value.Find("mode"), "mode", owner, kModes, &job.mode);
    Choice(value.Find("deletes"), "deletes", owner, kDeletes, &job.deletes);
    Choice(value.Find("on_error"), "on_error", owner, kOnError, &job.on_error);
    if (const Value* pk = value.Find("primary_key"); pk != nullptr && !pk->IsNull()) {
      if (auto columns = pk->AsStringList(); columns.ok()) job.primary_key = *columns;
    }
    auto section = [&](const char* key) {
      const Value* v = value.Find(key);
      return v == nullptr ? Value() : *v;
    };
    job.window = section("window");
    job.partitioning = section("partitioning");
    job.mask = section("mask");
    job.steps = section("steps");
    job.checks = section("checks");
    job.schema = section("schema");
    job.options = section("options");

    if (job.mode == "window" && job.window.IsNull()) {
      Error(value.KeyLocation("mode"),
            fmt::format("{} has mode: window but no window: section; add window: {{ column: ..., start: ..., "
                        "step: 1 day }}",
                        owner));
    }
    if (job.mode != "window" && job.window.IsMap()) {
      Error(value.KeyLocation("window"),
            fmt::format("{} has a window: section but mode: {}; set mode: window or remove window:", owner, job.mode));
    }

    if (const Value* retries = value.Find("retries"); retries != nullptr && !retries->IsNull()) {
      if (auto n = retries->AsInt(); n.ok()) {
        if (*n < 0) {
          Error(retries->location(), fmt::format("retries of {} must be 0 or more, got {}", owner, *n));
        } else {
          job.retries = *n;
        }
      }
    }
    if (const Value* timeout = value.Find("timeout"); timeout != nullptr && !timeout->IsNull()) {
      if (auto t = timeout->AsDuration(); t.ok()) job.timeout = *t;
    }

    parsed.refs = ParseDependsOn(value.Find("depends_on"), owner, &job);
    if (const Value* sql = value.Find("sql"); sql != nullptr && !sql->IsNull()) {
      job.sql = ParseSql(value, *sql, owner);
      return parsed;
    }
    for (const char* key : {"source", "target"}) {
      if (const Value* v = value.Find(key); v != nullptr && !v->IsNull()) continue;
      const auto& spec = *std::find_if(JobKeys().begin(), JobKeys().end(), [&](const auto& s) { return s.key == key; });
      Error(value.Find(key) != nullptr ? value.KeyLocation(key) : value.location(),
            fmt::format("missing required key '{}' in {} ({})", key, owner, spec.description));
    }
    job.target = ParseTarget(value.Find("target"), owner, job.mode);
    if (job.target.write == "merge" && job.primary_key.empty() && value.Find("target") != nullptr) {
      Error(value.Find("target")->location(),
            fmt::format("target of {} has write: merge but the job has no primary_key: to merge on", owner));
    }
    return parsed;
  }

  /// A sql: job runs a script on a database: it reads no source and writes no target, so the keys
  /// that shape rows are mistakes there.
  SqlJobConfig ParseSql(const Value& job, const Value& sql, std::string_view owner) {
    SqlJobConfig config;
    ValidateOptions(sql, SqlJobKeys(), fmt::format("sql of {}", owner), errors_);
    static const std::vector<std::string> kRowKeys = {"source",       "target", "mode", "primary_key", "deletes",
                                                      "on_error",     "window", "partitioning", "mask", "steps",
                                                      "checks",       "schema"};
    for (const auto& key : kRowKeys) {
      if (job.Find(key) == nullptr) continue;
      Error(job.KeyLocation(key),
            fmt::format("{} has sql: and {}:; a sql: job only runs SQL on a database — read and write rows in "
                        "another job (with depends_on), or remove sql:",
                        owner, key));
    }
    auto text = [&](const char* key) {
      const Value* v = sql.Find(key);
      return v != nullptr && v->IsScalar() ? v->scalar() : std::string();
    };
    config.connection = text("connection");
    config.file = text("file");
    config.script = text("script");
    bool has_file = sql.Find("file") != nullptr, has_script = sql.Find("script") != nullptr;
    if (has_file == has_script) {
      Error(sql.location(), fmt::format("sql of {} needs exactly one of file: (a .sql file in the project) or script: "
                                        "(the statements inline), {}",
                                        owner, has_file ? "not both" : "got neither"));
    }
    config.location = has_file ? sql.Find("file")->location() : has_script ? sql.Find("script")->location()
                                                                             : sql.location();
    if (!config.connection.empty() && project_.connections.Find(config.connection) == nullptr) {
      std::vector<std::string> names = project_.connections.Keys();
      std::string nearest = NearestWord(config.connection, names);
      Error(sql.Find("connection")->location(),
            fmt::format("connection '{}' (sql of {}) is not defined under connections: in sluice.yaml{}",
                        config.connection, owner,
                        nearest.empty() ? (names.empty() ? std::string(" (it has none)")
                                                         : fmt::format(" (defined: {})", Join(names, ", ")))
                                        : fmt::format(" (did you mean '{}'?)", nearest)));
    }
    return config;
  }

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
        std::string nearest = NearestWord(name->scalar(), defined);
        Error(name->location(),
              fmt::format("notification '{}' (notify.{} of pipeline '{}') is not defined under notifications: in "
                          "sluice.yaml{}",
                          name->scalar(), event, pipeline,
                          nearest.empty() ? (defined.empty() ? std::string(" (it has none)")
                                                             : fmt::format(" (defined: {})", Join(defined, ", ")))
                                          : fmt::format(" (did you mean '{}'?)", nearest)));
      }
    }
  }

  /// Kahn's algorithm, taking the earliest job in file order among the ready ones.
  std::vector<JobConfig> Order(std::vector<ParsedJob> parsed, std::string_view pipeline) {
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < parsed.size(); ++i) index.emplace(parsed[i].job.name, i);
    std::vector<std::vector<size_t>> dependents(parsed.size());
    std::vector<size_t> waiting(parsed.size(), 0);
    std::vector<std::string> names;
    for (const auto& p : parsed) names.push_back(p.job.name);
    for (size_t i = 0; i < parsed.size(); ++i) {
      for (const auto& ref : parsed[i].refs) {
        auto it = index.find(ref.job);
        if (it == index.end()) {
          std::string nearest = NearestWord(ref.job, names);
          Error(ref.location, fmt::format("job '{}' depends on '{}', which is not a job of pipeline '{}'{}",
                                          parsed[i].job.name, ref.job, pipeline,
                                          nearest.empty() ? fmt::format(" (its jobs: {})", Join(names, ", "))
                                                          : fmt::format(" (did you mean '{}'?)", nearest)));
          continue;
        }
        dependents[it->second].push_back(i);
        ++waiting[i];
      }
    }
    std::set<size_t> ready;
    for (size_t i = 0; i < parsed.size(); ++i) {
      if (waiting[i] == 0) ready.insert(i);
    }
    std::vector<size_t> order;
    while (!ready.empty()) {
      size_t next = *ready.begin();
      ready.erase(ready.begin());
      order.push_back(next);
      for (size_t d : dependents[next]) {
        if (--waiting[d] == 0) ready.insert(d);
      }
    }
    if (order.size() < parsed.size()) ReportCycle(parsed, index, waiting, pipeline);
    std::vector<JobConfig> jobs;
    for (size_t i : order) jobs.push_back(std::move(parsed[i].job));
    for (size_t i = 0; i < parsed.size(); ++i) {
      if (waiting[i] != 0) jobs.push_back(std::move(parsed[i].job));  // only reached with errors reported
    }
    return jobs;
  }

  void ReportCycle(const std::vector<ParsedJob>& parsed, const std::map<std::string, size_t>& index,
                   const std::vector<size_t>& waiting, std::string_view pipeline) {
    // Every unfinished job depends on an unfinished one, so walking dependencies from any of
    // them must revisit a job: the part from its first visit on is a cycle.
    size_t start = 0;
    while (waiting[start] == 0) ++start;
    std::vector<size_t> walk;
    std::vector<int> seen_at(parsed.size(), -1);
    size_t current = start;
    while (seen_at[current] < 0) {
      seen_at[current] = static_cast<int>(walk.size());
      walk.push_back(current);
      for (const auto& ref : parsed[current].refs) {
        auto dep = index.find(ref.job);
        if (dep != index.end() && waiting[dep->second] != 0) {
          current = dep->second;
          break;
        }
      }
    }
    // In the direction the jobs would run (a -> b: b waits for a), from the first job in file order.
    std::vector<size_t> members(walk.begin() + seen_at[current], walk.end());
    std::reverse(members.begin(), members.end());
    std::rotate(members.begin(), std::min_element(members.begin(), members.end()), members.end());
    std::vector<std::string> cycle;
    for (size_t i : members) cycle.push_back(parsed[i].job.name);
    cycle.push_back(cycle.front());
    Error(parsed[members.front()].job.location,
          fmt::format("jobs of pipeline '{}' depend on each other in a cycle: {}; remove one of these depends_on",
                      pipeline, Join(cycle, " -> ")));
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
      std::string nearest = NearestWord(name, project_.environments);
      Error(environments_section.KeyLocation(name),
            fmt::format("environment '{}' is not defined in sluice.yaml{}; pipelines can only overlay the "
                        "project's environments",
                        name,
                        nearest.empty() ? (project_.environments.empty()
                                               ? std::string(" (it has no environments:)")
                                               : fmt::format(" (defined: {})", Join(project_.environments, ", ")))
                                        : fmt::format(" (did you mean '{}'?)", nearest)));
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

    std::vector<ParsedJob> parsed;
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
      ParsedJob job = ParseJob(doc, config.name, config.location, owner);
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
    config.jobs = Order(std::move(parsed), config.name);
    config.raw = std::move(doc);
    return config;
  }

  std::vector<ParsedJob> ParseJobs(const Value& jobs, const std::string& pipeline) {
    std::vector<ParsedJob> parsed;
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
      parsed.push_back(ParseJob(value, name, loc, owner));
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
