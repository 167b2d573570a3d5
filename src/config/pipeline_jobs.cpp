#include <fmt/format.h>

#include <algorithm>

#include "common/strings.hpp"
#include "config/document.hpp"
#include "config/pipeline_parsing.hpp"

namespace sluice::config::internal {

std::string UndefinedNameHint(const std::string& name, const std::vector<std::string>& defined, std::string_view none) {
  std::string nearest = NearestWord(name, defined);
  if (!nearest.empty()) return fmt::format(" (did you mean '{}'?)", nearest);
  if (defined.empty()) return std::string(none);
  return fmt::format(" (defined: {})", Join(defined, ", "));
}

void JobParser::Error(const Location& loc, std::string message) { errors_->push_back(Prefix(loc) + message); }

void JobParser::Choice(const Value* value, std::string_view key, std::string_view owner,
                       const std::vector<std::string>& allowed, std::string* out) {
  if (value == nullptr || !value->IsScalar()) return;  // wrong types are reported by ValidateOptions
  std::string text = value->scalar();
  if (std::find(allowed.begin(), allowed.end(), text) != allowed.end()) {
    *out = std::move(text);
    return;
  }
  Error(value->location(), NotOneOfMessage(key, text, owner, allowed));
}

std::vector<DependencyRef> JobParser::ParseDependsOn(const Value* value, std::string_view owner, JobConfig* job) {
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
    DependencyCondition condition = DependencyCondition::kSuccess;
    if (item->IsScalar()) {
      name = item->scalar();
    } else if (item->IsMap()) {
      ValidateOptions(*item, kItemKeys, fmt::format("depends_on of {}", owner), errors_);
      if (const Value* j = item->Find("job"); j != nullptr && j->IsScalar()) name = j->scalar();
      Choice(item->Find("condition"), fmt::format("depends_on of {}", owner), ParseDependencyCondition, &condition);
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

ParsedJob JobParser::ParseJob(const Value& value, std::string name, Location location, std::string_view owner) {
  ParsedJob parsed;
  JobConfig& job = parsed.job;
  job.name = std::move(name);
  job.location = std::move(location);
  job.raw = value;
  if (!value.IsMap()) return parsed;
  if (const Value* d = value.Find("description"); d != nullptr && d->IsScalar()) job.description = d->scalar();

  if (const Value* source = value.Find("source"); source != nullptr && source->IsMap()) {
    job.source = *source;
    if (source->Find("type") == nullptr && source->Find("connection") == nullptr && source->Find("table") == nullptr) {
      Error(source->location(),
            fmt::format("source of {} needs type: (a connector such as files, http, postgres), connection: (a "
                        "name under connections: in sluice.yaml) or table: zone.name (a lake table)",
                        owner));
    }
  }
  Choice(value.Find("mode"), owner, ParseLoadMode, &job.mode);
  Choice(value.Find("deletes"), owner, ParseDeleteHandling, &job.deletes);
  Choice(value.Find("on_error"), owner, ParseOnError, &job.on_error);
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

  if (job.mode == LoadMode::kWindow && job.window.IsNull()) {
    Error(value.KeyLocation("mode"),
          fmt::format("{} has mode: window but no window: section; add window: {{ column: ..., start: ..., "
                      "step: 1 day }}",
                      owner));
  }
  if (job.mode != LoadMode::kWindow && job.window.IsMap()) {
    Error(value.KeyLocation("window"),
          fmt::format("{} has a window: section but mode: {}; set mode: window or remove window:", owner,
                      ToString(job.mode)));
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
  if (job.target.Merges() && job.primary_key.empty() && value.Find("target") != nullptr) {
    Error(value.Find("target")->location(),
          fmt::format("target of {} has write: merge but the job has no primary_key: to merge on", owner));
  }
  return parsed;
}

SqlJobConfig JobParser::ParseSql(const Value& job, const Value& sql, std::string_view owner) {
  SqlJobConfig config;
  ValidateOptions(sql, SqlJobKeys(), fmt::format("sql of {}", owner), errors_);
  static const std::vector<std::string> kRowKeys = {"source",  "target",   "mode",   "primary_key",
                                                    "deletes", "on_error", "window", "partitioning",
                                                    "mask",    "steps",    "checks", "schema"};
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
  config.location = has_file     ? sql.Find("file")->location()
                    : has_script ? sql.Find("script")->location()
                                 : sql.location();
  if (!config.connection.empty() && project_.connections.Find(config.connection) == nullptr) {
    Error(
        sql.Find("connection")->location(),
        fmt::format("connection '{}' (sql of {}) is not defined under connections: in sluice.yaml{}", config.connection,
                    owner, UndefinedNameHint(config.connection, project_.connections.Keys(), " (it has none)")));
  }
  return config;
}

}  // namespace sluice::config::internal
