#include "pipeline/catalog_views.hpp"

#include <spdlog/spdlog.h>

#include <set>

#include "common/strings.hpp"

namespace sluice::pipeline {

Result<std::string> TableScanSql(catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                                 const catalog::TableInfo& table, std::optional<int64_t> as_of) {
  SLUICE_ASSIGN_OR_RETURN(auto files, catalog.ListFiles(table.name, as_of));
  return FilesScanSql(lake, table, files);
}

Result<std::string> FilesScanSql(storage::ObjectStore& lake, const catalog::TableInfo& table,
                                 const std::vector<catalog::DataFile>& files) {
  if (files.empty()) {
    // An empty table still has its columns, so queries bind.
    std::vector<std::string> columns;
    for (const auto& c : table.schema.columns) {
      columns.push_back(fmt::format("CAST(NULL AS {}) AS {}", c.type, SqlIdent(c.name)));
    }
    if (columns.empty()) columns.push_back("NULL AS _empty");
    return fmt::format("SELECT {} WHERE false", Join(columns, ", "));
  }
  std::vector<std::string> paths;
  for (const auto& f : files) {
    auto local = lake.LocalPath(f.path);
    if (!local) {
      return Status::Invalid("table {} lives in {}, which cannot be queried locally yet", table.name.ToString(),
                             lake.Describe());
    }
    paths.push_back(SqlQuote(local->string()));
  }
  return fmt::format("SELECT * FROM read_parquet([{}], hive_partitioning = true, union_by_name = true)",
                     Join(paths, ", "));
}

Status BindCatalogViews(engine::Connection& connection, catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                        std::optional<int64_t> as_of) {
  SLUICE_ASSIGN_OR_RETURN(auto tables, catalog.ListTables());
  std::set<std::string> zones;
  for (const auto& t : tables) {
    if (zones.insert(t.name.zone).second) {
      SLUICE_TRY(connection.Execute(fmt::format("CREATE SCHEMA IF NOT EXISTS {}", SqlIdent(t.name.zone))));
    }
    std::optional<int64_t> version = as_of;
    if (version && *version > t.current_version) version = t.current_version;
    SLUICE_ASSIGN_OR_RETURN(auto scan, TableScanSql(catalog, lake, t, version));
    Status st = connection.Execute(
        fmt::format("CREATE OR REPLACE VIEW {}.{} AS {}", SqlIdent(t.name.zone), SqlIdent(t.name.name), scan));
    if (!st.ok()) {
      // One damaged table must not take every other table's queries down with it.
      spdlog::warn("table {} cannot be read and is left out of this query: {}", t.name.ToString(), st.message());
    }
  }
  return Status::OK();
}

}  // namespace sluice::pipeline
