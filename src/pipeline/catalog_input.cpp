#include "pipeline/catalog_input.hpp"

#include <fmt/format.h>

#include <set>

#include "common/strings.hpp"
#include "pipeline/catalog_views.hpp"

namespace sluice::pipeline {
namespace {

std::string BookmarkKey(const catalog::TableName& table) { return "bookmark:" + table.ToString(); }

Result<std::vector<std::string>> InputTableNames(const config::JobConfig& job) {
  const config::Value* table = job.source.Find("table");
  std::string where = fmt::format("{}: source of job '{}'", job.source.location().ToString(), job.name);
  for (const auto& [key, value] : job.source.entries()) {
    if (key != "table") {
      return Status::Invalid(
          "{}: key '{}' does not apply to a catalog-table source (it takes only table: zone.name "
          "or table: [zone.a, zone.b])",
          where, key);
    }
  }
  auto names = table->AsStringList();
  if (!names.ok() || names->empty()) {
    return Status::Invalid("{}: table: must name a catalog table (zone.name) or a list of them", where);
  }
  return *names;
}

}  // namespace

bool ReadsCatalogTables(const config::JobConfig& job) {
  return job.source.IsMap() && job.source.Find("table") != nullptr && job.source.Find("type") == nullptr &&
         job.source.Find("connection") == nullptr;
}

Result<CatalogInput> CatalogInput::Open(catalog::MetadataStore& catalog, const config::JobConfig& job,
                                        const std::string& scope, bool full_refresh, bool whole_when_changed) {
  SLUICE_ASSIGN_OR_RETURN(auto names, InputTableNames(job));
  CatalogInput input;
  for (const auto& text : names) {
    SLUICE_ASSIGN_OR_RETURN(auto name, catalog::TableName::Parse(text));
    SLUICE_ASSIGN_OR_RETURN(auto info, catalog.GetTable(name));
    if (!info) {
      SLUICE_ASSIGN_OR_RETURN(auto tables, catalog.ListTables());
      std::vector<std::string> known;
      for (const auto& t : tables) known.push_back(t.name.ToString());
      std::string hint = NearestWord(text, known);
      return Status::NotFound(
          "{}: job '{}' reads table {}, which is not in the catalog{}; run the job that writes "
          "it first (`sluice catalog list` shows the tables)",
          job.source.location().ToString(), job.name, text,
          hint.empty() ? "" : fmt::format(" (did you mean {}?)", hint));
    }
    CatalogInputTable in;
    in.table = *info;
    if (!full_refresh) {
      SLUICE_ASSIGN_OR_RETURN(auto bookmark, catalog.GetState(scope, BookmarkKey(name)));
      if (bookmark) in.bookmark = std::stoll(*bookmark);
    }
    // Compaction rewrites rows already processed into new files: those are not new input.
    std::set<int64_t> compactions;
    if (in.bookmark > 0) {
      SLUICE_ASSIGN_OR_RETURN(auto history, catalog.History(name));
      for (const auto& v : history) {
        if (v.operation == "compact") compactions.insert(v.version);
      }
    }
    SLUICE_ASSIGN_OR_RETURN(auto files, catalog.ListFiles(name, info->current_version));
    in.current_files = files.size();
    for (auto& f : files) {
      if (f.version_added > in.bookmark && compactions.count(f.version_added) == 0)
        in.new_files.push_back(std::move(f));
    }
    input.inputs_.push_back(std::move(in));
  }
  if (whole_when_changed && !input.NothingToRead()) SLUICE_TRY(input.WidenToWholeTables(catalog));
  return input;
}

bool CatalogInput::ReadsWholeTables() const {
  for (const auto& in : inputs_) {
    if (in.new_files.size() != in.current_files) return false;
  }
  return true;
}

Status CatalogInput::WidenToWholeTables(catalog::MetadataStore& catalog) {
  for (auto& in : inputs_) {
    SLUICE_ASSIGN_OR_RETURN(in.new_files, catalog.ListFiles(in.table.name, in.table.current_version));
  }
  return Status::OK();
}

bool CatalogInput::NothingToRead() const {
  for (const auto& in : inputs_) {
    if (!in.new_files.empty()) return false;
  }
  return true;
}

std::string CatalogInput::Summary() const {
  std::vector<std::string> parts;
  for (const auto& in : inputs_) {
    int64_t rows = 0;
    for (const auto& f : in.new_files) rows += f.rows;
    parts.push_back(fmt::format("{}: {} new file{}, {} rows (versions {}-{})", in.table.name.ToString(),
                                in.new_files.size(), in.new_files.size() == 1 ? "" : "s", rows, in.bookmark + 1,
                                in.table.current_version));
  }
  return Join(parts, "; ");
}

std::string CatalogInput::Description() const {
  std::vector<std::string> names;
  for (const auto& in : inputs_) names.push_back(in.table.name.ToString());
  return "catalog " + Join(names, ", ");
}

uint64_t CatalogInput::PendingBytes() const {
  uint64_t bytes = 0;
  for (const auto& in : inputs_) {
    for (const auto& f : in.new_files) bytes += static_cast<uint64_t>(f.bytes);
  }
  return bytes;
}

Status CatalogInput::Bind(engine::Connection& connection, catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                          storage::ReadThroughCache* cache, const std::string& relation) const {
  SLUICE_TRY(BindCatalogViews(connection, catalog, lake, std::nullopt, cache));
  // DuckDB keeps temporary objects in one schema, so the narrowed zone.table views live in the
  // shared engine: the job runner holds Workspace::catalog_input_mutex() while such a job runs.
  for (const auto& in : inputs_) {
    SLUICE_ASSIGN_OR_RETURN(auto scan,
                            FilesScanSql(lake, in.table, in.new_files, cache, SourceFileColumn::kAddWhenMissing));
    SLUICE_TRY(connection.Execute(fmt::format("CREATE OR REPLACE VIEW {}.{} AS {}", SqlIdent(in.table.name.zone),
                                              SqlIdent(in.table.name.name), scan)));
  }
  const auto& first = inputs_.front().table.name;
  return connection.Execute(fmt::format("CREATE OR REPLACE TEMP VIEW {} AS SELECT * FROM {}.{}", SqlIdent(relation),
                                        SqlIdent(first.zone), SqlIdent(first.name)));
}

std::vector<catalog::StateUpdate> CatalogInput::AdvancedBookmarks(const std::string& scope) const {
  std::vector<catalog::StateUpdate> updates;
  for (const auto& in : inputs_) {
    updates.push_back({scope, BookmarkKey(in.table.name), std::to_string(in.table.current_version)});
  }
  return updates;
}

}  // namespace sluice::pipeline
