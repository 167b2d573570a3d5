#include "cli/cli_context.hpp"
#include "cli/output_format.hpp"
#include "common/ids.hpp"
#include "common/strings.hpp"
#include "config/value.hpp"
#include "pipeline/maintenance.hpp"

namespace sluice::cli {
namespace {

Result<std::chrono::microseconds> ParseRetain(const std::string& text) {
  auto parsed = config::Value::Scalar(text, {}, "--retain").AsDuration();
  if (!parsed.ok()) {
    return Status::Invalid("--retain '{}' is not a duration; write e.g. 7d, 36h or 0s (0s = keep nothing)", text);
  }
  return *parsed;
}

int RunVacuum(CliContext& context, const std::string& retain_text, bool dry_run) {
  auto retain = ParseRetain(retain_text);
  if (!retain.ok()) return ReportError(context, retain.status());
  auto loaded = LoadAll(context, /*with_pipelines=*/false);
  if (!loaded.ok()) return ReportError(context, loaded.status());
  auto& ws = *loaded->workspace;
  pipeline::VacuumOptions options;
  options.retain = *retain;
  options.dry_run = dry_run;
  options.lock_dir = ws.state_dir() / "locks";
  auto report = pipeline::Vacuum(ws.catalog(), ws.lake(), ws.clock(), options);
  if (!report.ok()) return ReportError(context, report.status());
  if (report->kept_since) {
    fmt::print(stderr, "{} run{} in flight ({}): kept every file since {}\n", report->runs_in_flight.size(),
               report->runs_in_flight.size() == 1 ? "" : "s", Join(report->runs_in_flight, ", "),
               FormatTimestampUtc(*report->kept_since));
  }
  if (report->pending_chunks > 0) {
    fmt::print(stderr, "kept {} chunk{} of interrupted full loads that their next run resumes\n",
               report->pending_chunks, report->pending_chunks == 1 ? "" : "s");
  }
  if (report->snapshots_expired > 0) {
    fmt::print("expired {} Iceberg snapshot{} whose files are removed\n", report->snapshots_expired,
               report->snapshots_expired == 1 ? "" : "s");
  }
  std::vector<engine::TextRow> rows;
  for (const auto& o : report->objects) rows.push_back({o.key, HumanBytes(o.bytes), o.reason});
  if (!rows.empty()) PrintTable(stdout, {"object", "size", "why"}, rows);
  fmt::print("{} {} object{}, {} ({} bytes) in {}\n", dry_run ? "would remove" : "removed", report->objects.size(),
             report->objects.size() == 1 ? "" : "s", HumanBytes(report->bytes), report->bytes, ws.lake().Describe());
  return kExitOk;
}

int RunCompact(CliContext& context, const std::string& table_text, const std::string& size_text) {
  uint64_t target = 0;
  if (!ParseByteSize(size_text, &target) || target == 0) {
    return ReportError(context,
                       Status::Invalid("--target-file-size '{}' is not a size; write e.g. 128MB or 1GB", size_text));
  }
  auto name = catalog::TableName::Parse(table_text);
  if (!name.ok()) return ReportError(context, name.status());
  auto loaded = LoadAll(context, /*with_pipelines=*/false);
  if (!loaded.ok()) return ReportError(context, loaded.status());
  auto& ws = *loaded->workspace;
  auto connection = ws.engine().Connect();
  if (!connection.ok()) return ReportError(context, connection.status());
  pipeline::CompactOptions options;
  options.target_file_bytes = target;
  options.run_id = NewRunId(ws.clock());
  // Inside this process's spill folder: a compaction killed midway leaves no run record to clean up
  // after it, but the next sluice process sweeps the folder of a process that is gone.
  options.scratch = ws.spill_dir() / fmt::format("compact-{}", options.run_id.value);
  auto report = pipeline::Compact(ws.catalog(), ws.lake(), **connection, *name, options);
  std::error_code ec;
  std::filesystem::remove_all(options.scratch, ec);
  if (!report.ok()) return ReportError(context, report.status());
  if (report->version == 0) {
    fmt::print("{}: nothing to compact (no partition has two or more files smaller than {})\n", name->ToString(),
               HumanBytes(target));
    return kExitOk;
  }
  fmt::print("{}: version {}: {} files ({}) -> {} files ({}) in {} partition{}, {} rows\n", name->ToString(),
             report->version, report->files_before, HumanBytes(report->bytes_before), report->files_after,
             HumanBytes(report->bytes_after), report->partitions, report->partitions == 1 ? "" : "s", report->rows);
  return kExitOk;
}

}  // namespace

void AddMaintainCommand(CLI::App& app, CliContext& context) {
  auto* cmd = app.add_subcommand("maintain", "Lake housekeeping: compact small files, delete unreferenced ones");
  cmd->require_subcommand(1);
  struct VacuumArgs {
    std::string retain = "7d";
    bool dry_run = false;
  };
  auto vacuum_args = std::make_shared<VacuumArgs>();
  auto* vacuum = cmd->add_subcommand(
      "vacuum",
      "Delete lake files no table version needs any more (removed longer ago than --retain, or never committed)");
  vacuum->add_option("--retain", vacuum_args->retain,
                     "keep files removed more recently than this, so time travel to those versions works (default 7d)");
  vacuum->add_flag("--dry-run", vacuum_args->dry_run, "list what would be removed; delete nothing");
  vacuum->callback([&context, vacuum_args] {
    context.action = [&context, vacuum_args] { return RunVacuum(context, vacuum_args->retain, vacuum_args->dry_run); };
  });
  struct CompactArgs {
    std::string table, target = "128MB";
  };
  auto compact_args = std::make_shared<CompactArgs>();
  auto* compact = cmd->add_subcommand("compact", "Merge a table's small files into target-size files, in one commit");
  compact->add_option("TABLE", compact_args->table, "zone.table")->required();
  compact->add_option("--target-file-size", compact_args->target, "size of the merged files (default 128MB)");
  compact->callback([&context, compact_args] {
    context.action = [&context, compact_args] {
      return RunCompact(context, compact_args->table, compact_args->target);
    };
  });
}

}  // namespace sluice::cli
