#include "cli/cli_context.hpp"
#include "cli/output_format.hpp"
#include "pipeline/catalog_views.hpp"

namespace sluice::cli {

void AddQueryCommand(CLI::App& app, CliContext& context) {
  struct Args {
    std::string sql, format = "table";
    size_t max_rows = 100;
    int64_t as_of = -1;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("query", "Run SQL over the lake; catalog tables appear as zone.table");
  cmd->add_option("SQL", args->sql, "one SQL statement, e.g. \"SELECT count(*) FROM raw.birdstrikes\"")->required();
  cmd->add_option("--format,-f", args->format, "table (default) | csv | json")
      ->check(CLI::IsMember({"table", "csv", "json"}));
  cmd->add_option("--max-rows", args->max_rows, "rows shown in table format (default 100)");
  cmd->add_option("--as-of", args->as_of, "read every table as of this catalog version (time travel)");
  cmd->callback([&context, args] {
    context.action = [&context, args]() -> int {
      auto loaded = LoadAll(context, /*with_pipelines=*/false);
      if (!loaded.ok()) return ReportError(context, loaded.status());
      auto& ws = *loaded->workspace;
      auto connection = ws.engine().Connect();
      if (!connection.ok()) return ReportError(context, connection.status());
      std::optional<int64_t> as_of;
      if (args->as_of >= 0) as_of = args->as_of;
      Status st = pipeline::BindCatalogViews(**connection, ws.catalog(), ws.lake(), as_of, &ws.query_cache());
      if (!st.ok()) return ReportError(context, st);
      OutputFormat format = args->format == "csv"    ? OutputFormat::kCsv
                            : args->format == "json" ? OutputFormat::kJson
                                                     : OutputFormat::kTable;
      st = PrintQuery(stdout, **connection, args->sql, format, args->max_rows);
      if (!st.ok()) return ReportError(context, st.WithContext("query failed"));
      return kExitOk;
    };
  });
}

}  // namespace sluice::cli
