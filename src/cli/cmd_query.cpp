#include <filesystem>

#include "cli/cli_context.hpp"
#include "cli/output_format.hpp"
#include "common/ids.hpp"
#include "common/strings.hpp"
#include "config/option_reader.hpp"
#include "pipeline/catalog_views.hpp"
#include "pipeline/query_limits.hpp"
#include "pipeline/workspace.hpp"
#include "storage/object_store.hpp"

namespace sluice::cli {
namespace {

struct QueryArgs {
  std::string sql, format;
  size_t max_rows = 100;
  int64_t as_of = -1;
  bool save = false;
};

/// Writes the result to query.result_location as one Parquet or CSV file; returns where.
Result<std::string> SaveResult(LoadedProject& loaded, engine::Connection& connection, const std::string& sql,
                               const std::string& format) {
  SLUICE_ASSIGN_OR_RETURN(auto location,
                          config::OptionReader(loaded.project.query, config::QueryKeys()).String("result_location"));
  if (location.empty()) {
    return Status::Invalid("--save needs query.result_location in sluice.yaml (a folder or s3://bucket/prefix)");
  }
  if (!StartsWith(location, "s3://")) location = config::ResolveProjectPath(loaded.project, location).string();
  SLUICE_ASSIGN_OR_RETURN(auto s3_options, pipeline::S3OptionsFromConfig(loaded.project.s3));
  SLUICE_ASSIGN_OR_RETURN(auto store,
                          storage::OpenObjectStore(location, s3_options, storage::s3::ProcessEnvironment()));
  auto& ws = *loaded.workspace;
  RunId id = NewRunId(ws.clock());
  std::string name = fmt::format("query-{}.{}", id.value, format);
  std::filesystem::path staging = ws.state_dir() / "staging" / id.value;
  std::error_code ec;
  std::filesystem::create_directories(staging, ec);
  if (ec) return Status::IoError("cannot create '{}': {}", staging.string(), ec.message());
  std::filesystem::path local = staging / name;
  std::string options = format == "csv" ? "FORMAT csv, HEADER true" : "FORMAT parquet, COMPRESSION zstd";
  Status st = connection.Execute(fmt::format("COPY ({}) TO {} ({})", sql, SqlQuote(local.string()), options));
  if (st.ok()) st = store->PutFile(name, local, /*consume=*/true);
  std::filesystem::remove_all(staging, ec);
  SLUICE_TRY(st);
  if (auto path = store->LocalPath(name)) return path->string();
  return store->Describe() + "/" + name;
}

int RunQuery(CliContext& context, const QueryArgs& args) {
  auto loaded = LoadAll(context, /*with_pipelines=*/false);
  if (!loaded.ok()) return ReportError(context, loaded.status());
  std::optional<int64_t> as_of;
  if (args.as_of >= 0) as_of = args.as_of;
  auto& ws = *loaded->workspace;
  auto connection = ws.engine().Connect();
  if (!connection.ok()) return ReportError(context, connection.status());
  // One plan serves the scan limit and the views, so a remote lake fetches only the files counted.
  auto plan = pipeline::PlanScan(**connection, ws.catalog(), args.sql, as_of);
  if (!plan.ok()) return ReportError(context, plan.status());
  Status st = pipeline::CheckScanLimit(loaded->project.query, *plan);
  if (!st.ok()) return ReportError(context, st);
  st = pipeline::BindQueryViews(**connection, ws.catalog(), ws.lake(), *plan, as_of, &ws.query_cache());
  if (!st.ok()) return ReportError(context, st);
  if (args.save) {
    std::string format = args.format.empty() ? "parquet" : args.format;
    if (format != "parquet" && format != "csv") {
      return ReportError(context, Status::Invalid("--save writes parquet or csv, not '{}'", format));
    }
    auto path = SaveResult(*loaded, **connection, args.sql, format);
    if (!path.ok()) return ReportError(context, path.status().WithContext("query --save failed"));
    fmt::print("{}\n", *path);
    return kExitOk;
  }
  std::string format = args.format.empty() ? "table" : args.format;
  if (format == "parquet") {
    return ReportError(context, Status::Invalid("--format parquet needs --save (it is not printable)"));
  }
  OutputFormat output = format == "csv"    ? OutputFormat::kCsv
                        : format == "json" ? OutputFormat::kJson
                                           : OutputFormat::kTable;
  st = PrintQuery(stdout, **connection, args.sql, output, args.max_rows);
  if (!st.ok()) return ReportError(context, st.WithContext("query failed"));
  return kExitOk;
}

}  // namespace

void AddQueryCommand(CLI::App& app, CliContext& context) {
  auto args = std::make_shared<QueryArgs>();
  auto* cmd = app.add_subcommand("query", "Run SQL over the lake; catalog tables appear as zone.table");
  cmd->add_option("SQL", args->sql, "one SQL statement, e.g. \"SELECT count(*) FROM raw.birdstrikes\"")->required();
  cmd->add_option("--format,-f", args->format, "table (default) | csv | json; with --save: parquet (default) | csv")
      ->check(CLI::IsMember({"table", "csv", "json", "parquet"}));
  cmd->add_option("--max-rows", args->max_rows, "rows shown in table format (default 100)");
  cmd->add_option("--as-of", args->as_of, "read every table as of this catalog version (time travel)");
  cmd->add_flag("--save", args->save, "write the result to query.result_location and print the file's path");
  cmd->callback([&context, args] { context.action = [&context, args] { return RunQuery(context, *args); }; });
}

}  // namespace sluice::cli
