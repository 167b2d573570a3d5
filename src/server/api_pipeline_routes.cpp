// The pipeline views of the API the web UI uses: each pipeline's health and next scheduled fire
// (GET /api/v1/status), one pipeline with its job graph and configuration (GET /api/v1/pipelines/NAME),
// and the lineage of tables and jobs (GET /api/v1/lineage). All read the loaded configuration and the
// catalog; nothing here changes state.
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "pipeline/job_runner.hpp"
#include "scheduler/pipeline_triggers.hpp"
#include "scheduler/triggers/schedule/schedule_trigger.hpp"
#include "server/api_server.hpp"
#include "server/json_response.hpp"

namespace sluice::server {
namespace {

using nlohmann::json;

bool PlainYamlScalar(const std::string& text) {
  if (text.empty() || text.size() > 200) return false;
  static const std::string kUnsafeStart = "-?:,[]{}#&*!|>'\"%@` ";
  if (kUnsafeStart.find(text.front()) != std::string::npos || text.back() == ' ') return false;
  // Quoted whenever a character could mean something to YAML (readers copy this text).
  static const std::string kQuoted = "#:*&!|>{}[],%@`'\"\\";
  for (char c : text) {
    if (kQuoted.find(c) != std::string::npos || static_cast<unsigned char>(c) < 0x20) return false;
  }
  return true;
}

std::string YamlScalar(const config::Value& value) {
  if (value.is_secret()) return "\"***\"";
  if (PlainYamlScalar(value.scalar())) return value.scalar();
  return json(value.scalar()).dump();  // a JSON string is a valid YAML double-quoted scalar
}

/// The configuration as YAML text, in file order; values written as ${env:}/${file:} show as "***".
void AppendYaml(const config::Value& value, int indent, std::string& out) {
  std::string pad(static_cast<size_t>(indent), ' ');
  if (value.IsMap()) {
    for (const auto& [key, item] : value.entries()) {
      std::string name = PlainYamlScalar(key) ? key : json(key).dump();
      if (item.IsScalar()) {
        out += fmt::format("{}{}: {}\n", pad, name, YamlScalar(item));
      } else if (item.IsNull()) {
        out += fmt::format("{}{}:\n", pad, name);
      } else if ((item.IsMap() && item.entries().empty()) || (item.IsList() && item.items().empty())) {
        out += fmt::format("{}{}: {}\n", pad, name, item.IsMap() ? "{}" : "[]");
      } else {
        out += fmt::format("{}{}:\n", pad, name);
        AppendYaml(item, indent + 2, out);
      }
    }
  } else if (value.IsList()) {
    for (const auto& item : value.items()) {
      if (item.IsScalar()) {
        out += fmt::format("{}- {}\n", pad, YamlScalar(item));
      } else {
        std::string nested;
        AppendYaml(item, indent + 2, nested);
        // "- " takes the place of the first line's indentation.
        out += pad + "- " + nested.substr(std::min(nested.size(), static_cast<size_t>(indent) + 2));
      }
    }
  } else if (value.IsScalar()) {
    out += pad + YamlScalar(value) + "\n";
  }
}

json LastRunJson(const std::optional<catalog::RunRecord>& run) {
  if (!run) return nullptr;
  return json{{"id", run->id.value},
              {"status", catalog::RunStatusName(run->status)},
              {"started_at", FormatTimestampUtc(run->started_at)},
              {"finished_at", run->finished_at ? json(FormatTimestampUtc(*run->finished_at)) : json(nullptr)},
              {"rows_written", run->rows_written},
              {"error", run->error}};
}

}  // namespace

void ApiServer::PipelineRoutes() {
  std::vector<std::string> names;
  for (const auto& p : pipelines_) names.push_back(p.name);

  // Health relative to the schedule: running, failing (the last run failed), late (a scheduled fire
  // passed without a run), on_time; never_run when nothing ran yet.
  auto status_of = [this, names](const config::PipelineConfig& p) -> Result<json> {
    SLUICE_ASSIGN_OR_RETURN(auto runs, workspace_.catalog().ListRuns(1, p.name));
    std::optional<catalog::RunRecord> last;
    if (!runs.empty()) last = runs.front();
    TimePoint now = workspace_.clock().Now();
    std::optional<TimePoint> next_fire, missed_fire;
    json triggers = json::array();
    auto parsed = scheduler::ReadPipelineTriggers(p, names);
    if (parsed.ok()) {
      for (const auto& spec : parsed->specs) {
        triggers.push_back({{"kind", spec.kind}, {"describe", workspace_.Redact(spec.config->Describe())}});
        const auto* schedule = spec.As<scheduler::triggers::ScheduleConfig>();
        if (schedule == nullptr) continue;
        auto next = schedule->cron.NextFireAfter(now, *schedule->zone);
        if (next && (!next_fire || *next < *next_fire)) next_fire = next;
        if (last) {
          auto due = schedule->cron.NextFireAfter(last->started_at, *schedule->zone);
          if (due && *due + scheduler::triggers::kScheduleGrace < now) missed_fire = due;
        }
      }
    }
    std::string health = "on_time";
    if (!last) {
      health = "never_run";
    } else if (last->status == catalog::RunStatus::kRunning) {
      health = "running";
    } else if (last->status == catalog::RunStatus::kFailed || last->status == catalog::RunStatus::kInterrupted) {
      health = "failing";
    } else if (missed_fire) {
      health = "late";
    }
    return json{{"name", p.name},
                {"health", health},
                {"next_fire", next_fire ? json(FormatTimestampUtc(*next_fire)) : json(nullptr)},
                {"missed_fire", missed_fire ? json(FormatTimestampUtc(*missed_fire)) : json(nullptr)},
                {"accepts_api", daemon_.AcceptsApiTrigger(p.name)},
                {"triggers", triggers},
                {"last_run", LastRunJson(last)}};
  };

  http_->Get("/api/v1/status", [this, status_of](const httplib::Request&, httplib::Response& response) {
    json list = json::array();
    for (const auto& p : pipelines_) {
      auto status = status_of(p);
      if (!status.ok()) return SendError(response, 500, workspace_.Redact(status.status().message()));
      list.push_back(*status);
    }
    SendJson(response, 200, json{{"pipelines", list}});
  });

  http_->Get(R"(/api/v1/pipelines/([^/]+))", [this, status_of](const httplib::Request& request,
                                                               httplib::Response& response) {
    std::string name = request.matches[1];
    auto it = std::find_if(pipelines_.begin(), pipelines_.end(), [&](const auto& p) { return p.name == name; });
    if (it == pipelines_.end()) {
      return SendError(response, 404, fmt::format("no pipeline named '{}'; GET /api/v1/pipelines lists them", name));
    }
    auto status = status_of(*it);
    if (!status.ok()) return SendError(response, 500, workspace_.Redact(status.status().message()));
    json jobs = json::array();
    for (const auto& job : it->jobs) {
      json depends = json::array();
      for (const auto& [upstream, condition] : job.depends_on_conditions) {
        depends.push_back({{"job", upstream}, {"condition", config::ToString(condition)}});
      }
      jobs.push_back({{"name", job.name},
                      {"description", job.description},
                      {"mode", config::ToString(job.mode)},
                      {"depends_on", depends},
                      {"target", pipeline::JobTargetLabel(job)},
                      {"write", job.target.WriteLabel()}});
    }
    std::string yaml;
    AppendYaml(it->raw, 0, yaml);
    json body = *status;
    body["description"] = it->description;
    body["tags"] = it->tags;
    body["jobs"] = jobs;
    body["config_yaml"] = workspace_.Redact(yaml);
    SendJson(response, 200, body);
  });

  // Tables and the jobs between them: an edge from each job's input (a lake table, or an outside
  // source named by its type or connection) to the job, and from the job to its target.
  http_->Get("/api/v1/lineage", [this](const httplib::Request&, httplib::Response& response) {
    json nodes = json::array(), edges = json::array();
    std::set<std::string> seen;
    auto add_node = [&](const std::string& id, const std::string& kind, const std::string& label,
                        const std::string& pipeline) {
      if (!seen.insert(id).second) return;
      nodes.push_back({{"id", id}, {"kind", kind}, {"label", label}, {"pipeline", pipeline}});
    };
    auto tables = workspace_.catalog().ListTables();
    if (!tables.ok()) return SendError(response, 500, workspace_.Redact(tables.status().message()));
    for (const auto& t : *tables) add_node("table:" + t.name.ToString(), "table", t.name.ToString(), "");
    for (const auto& p : pipelines_) {
      for (const auto& job : p.jobs) {
        std::string job_id = "job:" + p.name + "." + job.name;
        add_node(job_id, "job", job.name, p.name);
        std::string input;
        if (job.source.IsMap()) {
          if (const auto* table = job.source.Find("table")) {
            if (table->IsScalar()) input = "table:" + table->scalar();
          }
          if (input.empty()) {
            const auto* type = job.source.Find("connection");
            if (type == nullptr) type = job.source.Find("type");
            if (type != nullptr && type->IsScalar()) {
              input = "source:" + type->scalar();
              add_node(input, "source", type->scalar(), "");
            }
          }
        }
        if (!input.empty()) {
          if (input.rfind("table:", 0) == 0) add_node(input, "table", input.substr(6), "");
          edges.push_back({{"from", input}, {"to", job_id}});
        }
        if (job.target.IsLake()) {
          std::string target = "table:" + job.target.zone + "." + job.target.table;
          add_node(target, "table", target.substr(6), "");
          edges.push_back({{"from", job_id}, {"to", target}});
        } else {
          std::string sink = "sink:" + (job.target.connection.empty() ? job.target.type : job.target.connection) + "/" +
                             job.target.table;
          add_node(sink, "sink", sink.substr(5), "");
          edges.push_back({{"from", job_id}, {"to", sink}});
        }
      }
    }
    SendJson(response, 200, json{{"nodes", nodes}, {"edges", edges}});
  });
}

}  // namespace sluice::server
