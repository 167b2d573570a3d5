#include <fmt/chrono.h>

#include <map>

#include "cli/cli_context.hpp"
#include "cli/output_format.hpp"
#include "common/ids.hpp"
#include "common/strings.hpp"
#include "iceberg/publisher.hpp"
#include "pipeline/crawl.hpp"

namespace sluice::cli {
namespace {

int ListTables(CliContext& context) {
  auto loaded = LoadAll(context, false);
  if (!loaded.ok()) return ReportError(context, loaded.status());
  auto tables = loaded->workspace->catalog().ListTables();
  if (!tables.ok()) return ReportError(context, tables.status());
  std::vector<engine::TextRow> rows;
  for (const auto& t : *tables) {
    rows.push_back({t.name.ToString(), std::to_string(t.current_version), std::to_string(t.row_count),
                    std::to_string(t.file_count), HumanBytes(static_cast<uint64_t>(t.total_bytes)),
                    ShortTime(t.updated_at), t.location});
  }
  PrintTable(stdout, {"table", "version", "rows", "files", "size", "updated", "location"}, rows);
  return kExitOk;
}

Result<catalog::TableInfo> FindTable(LoadedProject& loaded, const std::string& name) {
  SLUICE_ASSIGN_OR_RETURN(auto table_name, catalog::TableName::Parse(name));
  SLUICE_ASSIGN_OR_RETURN(auto table, loaded.workspace->catalog().GetTable(table_name));
  if (!table) {
    SLUICE_ASSIGN_OR_RETURN(auto all, loaded.workspace->catalog().ListTables());
    std::vector<std::string> names;
    for (const auto& t : all) names.push_back(t.name.ToString());
    std::string hint = NearestWord(name, names);
    return Status::NotFound("no table {} in the catalog{}; `sluice catalog list` shows them", name,
                            hint.empty() ? "" : fmt::format(" (did you mean {}?)", hint));
  }
  return *table;
}

int ShowTable(CliContext& context, const std::string& name) {
  auto loaded = LoadAll(context, false);
  if (!loaded.ok()) return ReportError(context, loaded.status());
  auto table = FindTable(*loaded, name);
  if (!table.ok()) return ReportError(context, table.status());
  const auto& t = *table;
  fmt::print("table:      {}\n", t.name.ToString());
  fmt::print("location:   {}/{}\n", loaded->workspace->lake().Describe(), t.location);
  fmt::print("source:     {}\n", t.source);
  fmt::print("version:    {}\n", t.current_version);
  fmt::print("rows:       {}\nfiles:      {}\nsize:       {}\n", t.row_count, t.file_count,
             HumanBytes(static_cast<uint64_t>(t.total_bytes)));
  fmt::print("partitions: {}\n", t.partition_columns.empty() ? "(none)" : Join(t.partition_columns, ", "));
  fmt::print("created:    {}\nupdated:    {}\n\n", ShortTime(t.created_at), ShortTime(t.updated_at));
  std::vector<engine::TextRow> rows;
  for (const auto& c : t.schema.columns) rows.push_back({c.name, c.type, c.nullable ? "yes" : "no"});
  PrintTable(stdout, {"column", "type", "nullable"}, rows);
  auto files = loaded->workspace->catalog().ListFiles(t.name);
  if (files.ok()) {
    std::map<std::string, std::pair<int64_t, int64_t>> by_partition;
    for (const auto& f : *files) {
      std::vector<std::string> parts;
      for (const auto& [k, v] : f.partition_values) parts.push_back(k + "=" + v);
      auto& entry = by_partition[parts.empty() ? "(unpartitioned)" : Join(parts, "/")];
      entry.first += 1;
      entry.second += f.rows;
    }
    if (!by_partition.empty()) {
      std::vector<engine::TextRow> prow;
      for (const auto& [p, v] : by_partition) prow.push_back({p, std::to_string(v.first), std::to_string(v.second)});
      fmt::print("\n");
      PrintTable(stdout, {"partition", "files", "rows"}, prow);
    }
  }
  return kExitOk;
}

int History(CliContext& context, const std::string& name) {
  auto loaded = LoadAll(context, false);
  if (!loaded.ok()) return ReportError(context, loaded.status());
  auto table = FindTable(*loaded, name);
  if (!table.ok()) return ReportError(context, table.status());
  auto history = loaded->workspace->catalog().History(table->name);
  if (!history.ok()) return ReportError(context, history.status());
  std::vector<engine::TextRow> rows;
  const catalog::Schema* previous = nullptr;
  for (const auto& v : *history) {
    std::string schema_change = v.schema_change;
    if (previous == nullptr && !v.schema.columns.empty()) {  // the first write: the schema it inferred
      std::vector<std::string> columns;
      for (const auto& c : v.schema.columns) columns.push_back(c.name + " " + c.type);
      schema_change = "created: " + Join(columns, ", ");
    }
    if (!v.schema.columns.empty()) previous = &v.schema;
    std::string by = v.job.empty() ? v.pipeline : v.pipeline + "/" + v.job;
    rows.push_back({std::to_string(v.version), ShortTime(v.committed_at), v.operation, by, v.run_id.value,
                    fmt::format("+{} -{}", v.files_added, v.files_removed),
                    fmt::format("+{} -{}", v.rows_added, v.rows_removed), schema_change});
  }
  PrintTable(stdout, {"version", "committed", "operation", "by", "run", "files", "rows", "schema change"}, rows);
  return kExitOk;
}

int Crawl(CliContext& context, const std::string& path, const std::string& zone, const std::string& table) {
  auto loaded = LoadAll(context, false);
  if (!loaded.ok()) return ReportError(context, loaded.status());
  auto& ws = *loaded->workspace;
  auto connection = ws.engine().Connect();
  if (!connection.ok()) return ReportError(context, connection.status());
  pipeline::CrawlRequest request;
  request.path = StartsWith(path, "s3://") ? path : config::ResolveProjectPath(loaded->project, path).string();
  request.zone = zone;
  request.table = table;
  request.run_id = NewRunId(ws.clock());
  request.scratch = ws.state_dir() / "staging" / request.run_id.value / "crawl";
  if (StartsWith(ToLower(path), "s3://")) {
    auto s3 = pipeline::S3OptionsFromConfig(loaded->project.s3);
    if (!s3.ok()) return ReportError(context, s3.status().WithContext("catalog crawl of {}", path));
    request.s3 = std::move(*s3);
  }
  auto crawled = pipeline::Crawl(ws.catalog(), ws.lake(), **connection, request);
  std::error_code ec;
  std::filesystem::remove_all(request.scratch.parent_path(), ec);
  if (!crawled.ok()) return ReportError(context, crawled.status().WithContext("catalog crawl of {}", path));
  std::vector<engine::TextRow> rows;
  for (const auto& t : *crawled) {
    rows.push_back({t.table, t.version == 0 ? "-" : std::to_string(t.version), std::to_string(t.files_added),
                    std::to_string(t.files_known), std::to_string(t.rows_added),
                    t.partition_columns.empty() ? "-" : Join(t.partition_columns, ", "), t.placement});
  }
  PrintTable(stdout, {"table", "version", "new files", "known files", "new rows", "partitions", "files"}, rows);
  return kExitOk;
}

int ExportIceberg(CliContext& context, const std::string& name) {
  auto loaded = LoadAll(context, false);
  if (!loaded.ok()) return ReportError(context, loaded.status());
  auto table = FindTable(*loaded, name);
  if (!table.ok()) return ReportError(context, table.status());
  auto& ws = *loaded->workspace;
  auto location = iceberg::ExportTable(ws.catalog(), ws.lake(), table->name);
  if (!location.ok()) return ReportError(context, location.status().WithContext("catalog export-iceberg {}", name));
  fmt::print("{}: Iceberg metadata of versions 1 to {} written; current metadata {}\n", table->name.ToString(),
             table->current_version, *location);
  if (loaded->project.table_format != "iceberg") {
    fmt::print("note: table_format is not iceberg in sluice.yaml, so later commits will not update it\n");
  }
  return kExitOk;
}

}  // namespace

void AddCatalogCommand(CLI::App& app, CliContext& context) {
  auto* cmd = app.add_subcommand("catalog", "Inspect the lake's tables, schemas, partitions and versions");
  cmd->require_subcommand(1);
  auto* list = cmd->add_subcommand("list", "List tables with version, rows, files and size");
  list->callback([&context] { context.action = [&context] { return ListTables(context); }; });
  auto show_name = std::make_shared<std::string>();
  auto* show = cmd->add_subcommand("show", "Show a table's location, schema and partitions");
  show->add_option("TABLE", *show_name, "zone.table")->required();
  show->callback(
      [&context, show_name] { context.action = [&context, show_name] { return ShowTable(context, *show_name); }; });
  auto history_name = std::make_shared<std::string>();
  auto* history = cmd->add_subcommand("history", "List a table's versions and what each commit changed");
  history->add_option("TABLE", *history_name, "zone.table")->required();
  history->callback([&context, history_name] {
    context.action = [&context, history_name] { return History(context, *history_name); };
  });
  struct CrawlArgs {
    std::string path, zone, table;
  };
  auto crawl_args = std::make_shared<CrawlArgs>();
  auto export_name = std::make_shared<std::string>();
  auto* export_iceberg =
      cmd->add_subcommand("export-iceberg", "(Re)write a table's Iceberg metadata from the catalog's history");
  export_iceberg->add_option("TABLE", *export_name, "zone.table")->required();
  export_iceberg->callback([&context, export_name] {
    context.action = [&context, export_name] { return ExportIceberg(context, *export_name); };
  });
  auto* crawl = cmd->add_subcommand("crawl", "Register folders of existing Parquet/CSV/JSON files as tables");
  crawl->add_option("PATH", crawl_args->path, "folder; each sub-folder becomes a table (or PATH itself with --table)")
      ->required();
  crawl->add_option("--zone", crawl_args->zone, "zone of the new tables, e.g. raw")->required();
  crawl->add_option("--table", crawl_args->table, "register all of PATH as this one table");
  crawl->callback([&context, crawl_args] {
    context.action = [&context, crawl_args] {
      return Crawl(context, crawl_args->path, crawl_args->zone, crawl_args->table);
    };
  });
}

}  // namespace sluice::cli
