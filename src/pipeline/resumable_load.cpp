#include "pipeline/resumable_load.hpp"

#include <nlohmann/json.hpp>

namespace sluice::pipeline {

int64_t PendingLoad::rows() const {
  int64_t total = 0;
  for (const auto& f : files) total += f.rows;
  return total;
}

std::string PendingLoad::ToJson() const {
  nlohmann::json chunks = nlohmann::json::array();
  for (const auto& f : files) {
    nlohmann::json partitions = nlohmann::json::array();
    for (const auto& [k, v] : f.partition_values) partitions.push_back({k, v});
    chunks.push_back({{"key", f.key}, {"rows", f.rows}, {"bytes", f.bytes}, {"partition_values", partitions}});
  }
  return nlohmann::json{
      {"resume_token", resume_token}, {"run_id", run_id.value}, {"loaded_at_us", loaded_at_us}, {"files", chunks}}
      .dump();
}

Result<std::optional<PendingLoad>> PendingLoad::Load(catalog::MetadataStore& catalog, const std::string& scope) {
  SLUICE_ASSIGN_OR_RETURN(auto text, catalog.GetState(scope, kPendingLoadKey));
  if (!text) return std::optional<PendingLoad>();
  SLUICE_ASSIGN_OR_RETURN(auto load, Parse(*text, scope));
  return std::optional<PendingLoad>(std::move(load));
}

Result<PendingLoad> PendingLoad::Parse(const std::string& text, const std::string& scope) {
  try {
    auto json = nlohmann::json::parse(text);
    PendingLoad load;
    load.resume_token = json.at("resume_token").get<std::string>();
    load.run_id = RunId{json.value("run_id", "")};
    load.loaded_at_us = json.at("loaded_at_us").get<int64_t>();
    for (const auto& f : json.at("files")) {
      connectors::StagedFile file;
      file.key = f.at("key").get<std::string>();
      file.rows = f.at("rows").get<int64_t>();
      file.bytes = f.at("bytes").get<int64_t>();
      for (const auto& p : f.at("partition_values"))
        file.partition_values.emplace_back(p.at(0).get<std::string>(), p.at(1).get<std::string>());
      load.files.push_back(std::move(file));
    }
    return load;
  } catch (const std::exception& e) {
    return Status::DataError(
        "the pending load recorded for '{}' is not readable ({}); run the job with --full-refresh "
        "to start the load over",
        scope, e.what());
  }
}

Status PendingLoad::Fetch(storage::ObjectStore& lake, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create '{}': {}", dir.string(), ec.message());
  for (size_t i = 0; i < files.size(); ++i) {
    files[i].local = dir / fmt::format("chunk-{:05d}.parquet", i);
    SLUICE_TRY(lake.GetToFile(files[i].key, files[i].local)
                   .WithContext("fetching chunk {} of the interrupted load", files[i].key));
  }
  return Status::OK();
}

}  // namespace sluice::pipeline
