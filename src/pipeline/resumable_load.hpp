#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "catalog/metadata_store.hpp"
#include "common/ids.hpp"
#include "connectors/sinks/lake/lake_sink.hpp"
#include "storage/object_store.hpp"

namespace sluice::pipeline {

/// The job state key of a snapshot load that was interrupted after some chunks were uploaded.
inline constexpr const char* kPendingLoadKey = "pending_load";

/// A snapshot (full) load in progress: the chunks already uploaded to their final keys in the lake
/// but referenced by no table version, and where the source carries on. Kept in the job's state
/// until the commit that publishes all chunks as one version (which also clears it).
struct PendingLoad {
  std::string resume_token;  // connectors::ResumableRead::ResumeToken() after the last uploaded chunk
  RunId run_id;              // the run that started the load
  int64_t loaded_at_us = 0;  // _loaded_at / _load_date of the load, kept by the runs that resume it
  std::vector<connectors::StagedFile> files;

  int64_t rows() const;
  std::string ToJson() const;
  /// nullopt when the job has no pending load.
  static Result<std::optional<PendingLoad>> Load(catalog::MetadataStore& catalog, const std::string& scope);
  /// The pending load recorded as `text` in the state of `scope`.
  static Result<PendingLoad> Parse(const std::string& text, const std::string& scope);
  /// Copies every chunk back into `dir` (so checks and the masked variant can read them like this
  /// run's parts); an error when one is gone (e.g. removed by `maintain vacuum`).
  Status Fetch(storage::ObjectStore& lake, const std::filesystem::path& dir);
};

}  // namespace sluice::pipeline
