#include <charconv>

#include "cli/cli_context.hpp"
#include "cli/output_format.hpp"
#include "common/strings.hpp"
#include "pipeline/window_jobs.hpp"

namespace sluice::cli {
namespace {

/// The options of `jobs set` / `jobs add`; each is applied only when given.
struct JobArgs {
  std::string pipeline, job;
  std::string table, target_table, column, start, stop, step, partition_by, lower_bound, upper_bound, num_partitions;
  std::vector<std::pair<CLI::Option*, std::string*>> given;  // option -> its text
};

Result<std::optional<int64_t>> IntOption(const CLI::Option* option, const std::string& text) {
  if (option == nullptr || option->count() == 0) return std::optional<int64_t>();
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Status::Invalid("{} '{}' is not a whole number", option->get_name(), text);
  }
  return std::optional<int64_t>(value);
}

Result<pipeline::WindowJobChange> ChangeFrom(const JobArgs& args) {
  pipeline::WindowJobChange change;
  auto text = [&](const std::string& name) -> std::pair<const CLI::Option*, std::optional<std::string>> {
    for (const auto& [option, value] : args.given) {
      if (option->get_name() == name)
        return {option, option->count() > 0 ? std::optional<std::string>(*value) : std::nullopt};
    }
    return {nullptr, std::nullopt};
  };
  change.source_table = text("--table").second;
  change.target_table = text("--target-table").second;
  change.column = text("--column").second;
  change.start = text("--start").second;
  change.stop = text("--stop").second;
  change.step = text("--step").second;
  change.partition_by = text("--partition-by").second;
  SLUICE_ASSIGN_OR_RETURN(change.lower_bound, IntOption(text("--lower-bound").first, args.lower_bound));
  SLUICE_ASSIGN_OR_RETURN(change.upper_bound, IntOption(text("--upper-bound").first, args.upper_bound));
  SLUICE_ASSIGN_OR_RETURN(change.num_partitions, IntOption(text("--num-partitions").first, args.num_partitions));
  return change;
}

Result<const config::PipelineConfig*> FindPipeline(const LoadedProject& loaded, const std::string& name) {
  std::vector<std::string> names;
  for (const auto& p : loaded.pipelines) {
    if (p.name == name) return &p;
    names.push_back(p.name);
  }
  std::string hint = NearestWord(name, names);
  return Status::Invalid("no pipeline named '{}'{}; known: {}", name,
                         hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint),
                         names.empty() ? "(none)" : Join(names, ", "));
}

int ListJobs(CliContext& context, const std::string& pipeline) {
  auto loaded = LoadAll(context);
  if (!loaded.ok()) return ReportError(context, loaded.status());
  auto jobs = pipeline::ListWindowJobs(loaded->workspace->catalog(), loaded->pipelines, pipeline);
  if (!jobs.ok()) return ReportError(context, jobs.status());
  std::vector<engine::TextRow> rows;
  for (const auto& j : *jobs) {
    std::string last = j.last_status.empty() ? "-" : fmt::format("{} ({})", j.last_status, j.last_run);
    rows.push_back({j.pipeline, j.job, j.source_table, j.target_table, j.column, j.start, j.stop, j.step,
                    j.partitioning.empty() ? "-" : j.partitioning, last, j.defined_in});
  }
  if (rows.empty()) {
    fmt::print("no window jobs{}; `sluice jobs add PIPELINE JOB …` adds one to a pipeline with a mode: window job\n",
               pipeline.empty() ? "" : fmt::format(" in pipeline '{}'", pipeline));
    return kExitOk;
  }
  PrintTable(stdout,
             {"pipeline", "job", "table", "target", "column", "start", "stop", "step", "partitioning", "last run",
              "defined in"},
             rows);
  return kExitOk;
}

int ChangeJob(CliContext& context, const JobArgs& args, bool add) {
  auto change = ChangeFrom(args);
  if (!change.ok()) return ReportError(context, change.status());
  auto loaded = LoadAll(context);
  if (!loaded.ok()) return ReportError(context, loaded.status());
  auto pipeline = FindPipeline(*loaded, args.pipeline);
  if (!pipeline.ok()) return ReportError(context, pipeline.status());
  auto& ws = *loaded->workspace;
  Status st = add ? pipeline::AddWindowJob(ws, **pipeline, args.job, *change)
                  : pipeline::SetWindowJob(ws, **pipeline, args.job, *change);
  if (!st.ok()) return ReportError(context, st);
  auto jobs = pipeline::ListWindowJobs(ws.catalog(), loaded->pipelines, args.pipeline);
  if (!jobs.ok()) return ReportError(context, jobs.status());
  for (const auto& j : *jobs) {
    if (j.job != args.job) continue;
    fmt::print("{} {}/{}: next window {} >= {} and < {}, step {}{}\n", add ? "added" : "changed", j.pipeline, j.job,
               j.column, j.start, j.stop, j.step, j.partitioning.empty() ? "" : ", partitions " + j.partitioning);
  }
  return kExitOk;
}

int RemoveJob(CliContext& context, const std::string& pipeline_name, const std::string& job) {
  auto loaded = LoadAll(context);
  if (!loaded.ok()) return ReportError(context, loaded.status());
  auto pipeline = FindPipeline(*loaded, pipeline_name);
  if (!pipeline.ok()) return ReportError(context, pipeline.status());
  Status st = pipeline::RemoveWindowJob(*loaded->workspace, **pipeline, job);
  if (!st.ok()) return ReportError(context, st);
  fmt::print("removed {}/{} with its stored window and history; the lake table it wrote and its data stay\n",
             pipeline_name, job);
  return kExitOk;
}

void AddWindowOptions(CLI::App* cmd, JobArgs* args, bool add) {
  auto option = [&](const char* name, std::string* value, const char* help) {
    args->given.emplace_back(cmd->add_option(name, *value, help), value);
  };
  if (add) {
    option("--table", &args->table, "schema.table to read (through the connection of the pipeline's window job)");
    option("--target-table", &args->target_table,
           "lake table to write, in the zone of the pipeline's window job "
           "(default: the source table's name)");
    option("--column", &args->column, "window column (timestamp, timestamptz, date or integer)");
  }
  option("--start", &args->start,
         add ? "start of the first window (inclusive)" : "start of the next window (inclusive)");
  option("--stop", &args->stop, add ? "stop of the first window (exclusive)" : "stop of the next window (exclusive)");
  option("--step", &args->step, "rotation after each successful run: an interval (1 day, 1d, 6 hours) or a number");
  option("--partition-by", &args->partition_by, "integer column whose ranges are read over parallel connections");
  option("--lower-bound", &args->lower_bound, "lowest value of the partition column to split at");
  option("--upper-bound", &args->upper_bound, "highest value of the partition column to split at");
  option("--num-partitions", &args->num_partitions, "parallel connections (1-64)");
}

}  // namespace

void AddJobsCommand(CLI::App& app, CliContext& context) {
  auto* cmd = app.add_subcommand("jobs", "Window jobs: list them with their next window, change, add or remove them");
  cmd->require_subcommand(1);
  auto list_pipeline = std::make_shared<std::string>();
  auto* list =
      cmd->add_subcommand("list", "List window jobs: table, column, next window, step, partitioning, last run");
  list->add_option("PIPELINE", *list_pipeline, "only this pipeline's jobs");
  list->callback([&context, list_pipeline] {
    context.action = [&context, list_pipeline] { return ListJobs(context, *list_pipeline); };
  });
  for (bool add : {false, true}) {
    auto args = std::make_shared<JobArgs>();
    auto* sub =
        cmd->add_subcommand(add ? "add" : "set", add ? "Add a window job that exists only in the catalog"
                                                     : "Change a window job's next window, step or partitioning");
    sub->add_option("PIPELINE", args->pipeline, "pipeline")->required();
    sub->add_option("JOB", args->job, add ? "name of the new job" : "job")->required();
    AddWindowOptions(sub, args.get(), add);
    sub->callback(
        [&context, args, add] { context.action = [&context, args, add] { return ChangeJob(context, *args, add); }; });
  }
  auto removed = std::make_shared<std::pair<std::string, std::string>>();
  auto* remove = cmd->add_subcommand("remove", "Remove a window job added with `jobs add` (the lake table stays)");
  remove->add_option("PIPELINE", removed->first, "pipeline")->required();
  remove->add_option("JOB", removed->second, "job")->required();
  remove->callback([&context, removed] {
    context.action = [&context, removed] { return RemoveJob(context, removed->first, removed->second); };
  });
}

}  // namespace sluice::cli
