// One table of the lake for the web UI (GET /api/v1/tables/NAME): its current figures, every version
// (which run wrote it, what changed in the schema), its partitions and current files. Read-only.
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <array>
#include <map>

#include "server/api_server.hpp"
#include "server/json_response.hpp"

namespace sluice::server {
namespace {

using nlohmann::json;

/// A table page lists at most this many files (a big table has many); the totals count them all.
constexpr size_t kMaxFilesListed = 500;

json SchemaJson(const catalog::Schema& schema) {
  json columns = json::array();
  for (const auto& c : schema.columns)
    columns.push_back({{"name", c.name}, {"type", c.type}, {"nullable", c.nullable}});
  return columns;
}

std::string PartitionLabel(const std::vector<std::pair<std::string, std::string>>& values) {
  std::string label;
  for (const auto& [column, value] : values) label += (label.empty() ? "" : "/") + column + "=" + value;
  return label;
}

}  // namespace

void ApiServer::TableRoutes() {
  http_->Get(R"(/api/v1/tables/([^/]+))", [this](const httplib::Request& request, httplib::Response& response) {
    auto name = catalog::TableName::Parse(request.matches[1].str());
    if (!name.ok()) return SendError(response, 400, name.status().message());
    auto table = workspace_.catalog().GetTable(*name);
    if (!table.ok()) return SendError(response, 500, workspace_.Redact(table.status().message()));
    if (!*table) {
      return SendError(response, 404,
                       fmt::format("no table named '{}'; GET /api/v1/tables lists them", name->ToString()));
    }
    auto history = workspace_.catalog().History(*name);
    auto files = workspace_.catalog().ListFiles(*name);
    if (!history.ok() || !files.ok()) {
      Status error = history.ok() ? files.status() : history.status();
      return SendError(response, HttpStatusFor(error), workspace_.Redact(error.message()));
    }
    const catalog::TableInfo& t = **table;
    json versions = json::array();
    for (auto it = history->rbegin(); it != history->rend(); ++it) {  // newest first
      versions.push_back({{"version", it->version},
                          {"committed_at", FormatTimestampUtc(it->committed_at)},
                          {"run_id", it->run_id.value},
                          {"pipeline", it->pipeline},
                          {"job", it->job},
                          {"operation", it->operation},
                          {"files_added", it->files_added},
                          {"files_removed", it->files_removed},
                          {"rows_added", it->rows_added},
                          {"rows_removed", it->rows_removed},
                          {"schema_change", it->schema_change},
                          {"schema", SchemaJson(it->schema)}});
    }
    std::map<std::string, std::array<int64_t, 3>> partitions;  // label → files, rows, bytes
    json file_list = json::array();
    for (const auto& f : *files) {
      auto& sums = partitions[PartitionLabel(f.partition_values)];
      sums[0] += 1;
      sums[1] += f.rows;
      sums[2] += f.bytes;
      if (file_list.size() < kMaxFilesListed) {
        file_list.push_back({{"path", f.path},
                             {"rows", f.rows},
                             {"bytes", f.bytes},
                             {"partition", PartitionLabel(f.partition_values)},
                             {"version_added", f.version_added}});
      }
    }
    json partition_list = json::array();
    for (const auto& [label, sums] : partitions) {
      partition_list.push_back({{"partition", label}, {"files", sums[0]}, {"rows", sums[1]}, {"bytes", sums[2]}});
    }
    SendJson(response, 200,
             json{{"name", t.name.ToString()},
                  {"source", workspace_.Redact(t.source)},
                  {"schema", SchemaJson(t.schema)},
                  {"rows", t.row_count},
                  {"files", t.file_count},
                  {"bytes", t.total_bytes},
                  {"version", t.current_version},
                  {"partition_columns", t.partition_columns},
                  {"created_at", FormatTimestampUtc(t.created_at)},
                  {"updated_at", FormatTimestampUtc(t.updated_at)},
                  {"versions", versions},
                  {"partitions", partition_list},
                  {"file_list", file_list},
                  {"file_list_truncated", files->size() > kMaxFilesListed}});
  });
}

}  // namespace sluice::server
