#include "pipeline/catalog_views.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <regex>
#include <set>

#include "common/strings.hpp"

namespace sluice::pipeline {

Result<std::string> TableScanSql(catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                                 const catalog::TableInfo& table, std::optional<int64_t> as_of,
                                 storage::ReadThroughCache* cache) {
  SLUICE_ASSIGN_OR_RETURN(auto files, catalog.ListFiles(table.name, as_of));
  return FilesScanSql(lake, table, files, cache);
}

Result<std::string> FilesScanSql(storage::ObjectStore& lake, const catalog::TableInfo& table,
                                 const std::vector<catalog::DataFile>& files, storage::ReadThroughCache* cache) {
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
    if (!local && cache != nullptr) {  // remote lake: read through the local cache
      auto fetched = cache->Fetch(lake, f.path);
      if (!fetched.ok()) {
        return Status(fetched.status().code(),
                      fmt::format("table {}: cannot fetch {} from {}: {}", table.name.ToString(), f.path,
                                  lake.Describe(), fetched.status().message()),
                      fetched.status().retryable());
      }
      local = *fetched;
    }
    if (!local) {
      return Status::Invalid("table {} lives in {}, which cannot be queried without a read cache",
                             table.name.ToString(), lake.Describe());
    }
    paths.push_back(SqlQuote(local->string()));
  }
  return fmt::format("SELECT * FROM read_parquet([{}], hive_partitioning = true, union_by_name = true)",
                     Join(paths, ", "));
}

Status BindCatalogViews(engine::Connection& connection, catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                        std::optional<int64_t> as_of, storage::ReadThroughCache* cache) {
  SLUICE_ASSIGN_OR_RETURN(auto tables, catalog.ListTables());
  std::set<std::string> zones;
  for (const auto& t : tables) {
    if (zones.insert(t.name.zone).second) {
      SLUICE_TRY(connection.Execute(fmt::format("CREATE SCHEMA IF NOT EXISTS {}", SqlIdent(t.name.zone))));
    }
    std::optional<int64_t> version = as_of;
    if (version && *version > t.current_version) version = t.current_version;
    SLUICE_ASSIGN_OR_RETURN(auto scan, TableScanSql(catalog, lake, t, version, cache));
    Status st = connection.Execute(
        fmt::format("CREATE OR REPLACE VIEW {}.{} AS {}", SqlIdent(t.name.zone), SqlIdent(t.name.name), scan));
    if (!st.ok()) {
      // One damaged table must not take every other table's queries down with it.
      spdlog::warn("table {} cannot be read and is left out of this query: {}", t.name.ToString(), st.message());
    }
  }
  return Status::OK();
}

namespace {

std::string RegexEscape(const std::string& text) {
  static const std::regex special(R"re([.^$|()\[\]{}*+?\\])re");
  return std::regex_replace(text, special, R"re(\$&)re");
}

/// `zone.table`, either part optionally double-quoted, not part of a longer name.
bool MentionsTable(const std::string& sql, const catalog::TableName& name) {
  std::regex pattern(R"re((^|[^\w."])"?)re" + RegexEscape(name.zone) + R"re("?\s*\.\s*"?)re" + RegexEscape(name.name) +
                         R"re("?($|[^\w"]))re",
                     std::regex::icase);
  return std::regex_search(sql, pattern);
}

/// Values a partition column is restricted to by `col = v` / `col IN (v, ...)`; nullopt when
/// the SQL does not restrict it that way.
std::optional<std::set<std::string>> AllowedValues(const std::string& sql, const std::string& column) {
  std::string col = R"re((^|[^\w"])"?)re" + RegexEscape(column) + R"re("?\s*)re";
  std::regex equals(col + R"re(=\s*('([^']*)'|(-?[\w.]+)))re", std::regex::icase);
  std::regex in_list(col + R"re(in\s*\(([^)]*)\))re", std::regex::icase);
  std::set<std::string> allowed;
  bool restricted = false;
  for (std::sregex_iterator it(sql.begin(), sql.end(), equals), end; it != end; ++it) {
    restricted = true;
    allowed.insert((*it)[3].matched ? (*it)[3].str() : (*it)[4].str());
  }
  for (std::sregex_iterator it(sql.begin(), sql.end(), in_list), end; it != end; ++it) {
    restricted = true;
    for (auto item : Split((*it)[2].str(), ',')) {
      std::string value = Trim(item);
      if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') value = value.substr(1, value.size() - 2);
      allowed.insert(value);
    }
  }
  if (!restricted) return std::nullopt;
  return allowed;
}

}  // namespace

Result<ScanEstimate> EstimateScan(catalog::MetadataStore& catalog, const std::string& sql,
                                  std::optional<int64_t> as_of) {
  static const std::regex widening(R"re(\b(or|not)\b)re", std::regex::icase);
  const bool may_prune = !std::regex_search(sql, widening);
  ScanEstimate estimate;
  SLUICE_ASSIGN_OR_RETURN(auto tables, catalog.ListTables());
  for (const auto& table : tables) {
    if (!MentionsTable(sql, table.name)) continue;
    estimate.tables.push_back(table.name.ToString());
    std::map<std::string, std::set<std::string>> restrictions;
    if (may_prune) {
      for (const auto& column : table.partition_columns) {
        if (auto allowed = AllowedValues(sql, column)) restrictions[column] = *allowed;
      }
    }
    std::optional<int64_t> version = as_of;
    if (version && *version > table.current_version) version = table.current_version;
    SLUICE_ASSIGN_OR_RETURN(auto files, catalog.ListFiles(table.name, version));
    for (const auto& f : files) {
      bool excluded = false;
      for (const auto& [column, value] : f.partition_values) {
        auto r = restrictions.find(column);
        if (r != restrictions.end() && r->second.count(value) == 0) excluded = true;
      }
      if (excluded) {
        ++estimate.files_pruned;
        continue;
      }
      ++estimate.files;
      estimate.bytes += static_cast<uint64_t>(f.bytes);
    }
  }
  return estimate;
}

}  // namespace sluice::pipeline
