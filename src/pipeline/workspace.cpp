#include "pipeline/workspace.hpp"

#include <algorithm>

#include "common/strings.hpp"

namespace sluice::pipeline {

Result<storage::s3::S3Options> S3OptionsFromConfig(const config::Value& s3) {
  storage::s3::S3Options options;
  if (s3.IsNull()) return options;
  SLUICE_ASSIGN_OR_RETURN(options.endpoint, s3.GetString("endpoint", ""));
  SLUICE_ASSIGN_OR_RETURN(options.region, s3.GetString("region", ""));
  SLUICE_ASSIGN_OR_RETURN(options.profile, s3.GetString("profile", ""));
  if (s3.Find("path_style") != nullptr) {
    SLUICE_ASSIGN_OR_RETURN(bool path_style, s3.GetBool("path_style", true));
    options.path_style = path_style;
  }
  SLUICE_ASSIGN_OR_RETURN(options.verify_tls, s3.GetBool("verify_tls", true));
  SLUICE_ASSIGN_OR_RETURN(options.part_size, s3.GetByteSize("part_size", options.part_size));
  options.multipart_threshold = options.part_size;
  SLUICE_ASSIGN_OR_RETURN(int64_t attempts, s3.GetInt("max_attempts", options.max_attempts));
  options.max_attempts = static_cast<int>(std::max<int64_t>(1, attempts));
  const config::Value* key_id = s3.Find("access_key_id");
  const config::Value* secret = s3.Find("secret_access_key");
  if (key_id != nullptr || secret != nullptr) {
    if (key_id == nullptr || secret == nullptr) {
      return Status::Invalid("s3: set both access_key_id and secret_access_key (or neither, to use the AWS "
                             "environment variables or ~/.aws/credentials)");
    }
    storage::s3::Credentials credentials;
    SLUICE_ASSIGN_OR_RETURN(Secret id, key_id->AsSecret());
    credentials.access_key_id = id.Reveal();
    SLUICE_ASSIGN_OR_RETURN(credentials.secret_access_key, secret->AsSecret());
    if (const config::Value* token = s3.Find("session_token")) {
      SLUICE_ASSIGN_OR_RETURN(credentials.session_token, token->AsSecret());
    }
    options.credentials = std::move(credentials);
  }
  return options;
}

Result<std::unique_ptr<Workspace>> Workspace::Open(config::ProjectConfig project, std::shared_ptr<const Clock> clock,
                                                   std::shared_ptr<const Redactor> redactor) {
  std::unique_ptr<Workspace> ws(new Workspace());
  ws->project_ = std::move(project);
  ws->clock_ = std::move(clock);
  ws->redactor_ = std::move(redactor);
  const auto& p = ws->project_;
  // The s3: block matters only for an S3 lake; a local lake must not fail over an unused, partial block.
  storage::s3::S3Options s3_options;
  if (StartsWith(ToLower(p.lake), "s3://")) {
    SLUICE_ASSIGN_OR_RETURN(s3_options, S3OptionsFromConfig(p.s3));
  }
  SLUICE_ASSIGN_OR_RETURN(ws->lake_, storage::OpenObjectStore(p.lake, s3_options, storage::s3::ProcessEnvironment()));
  SLUICE_ASSIGN_OR_RETURN(uint64_t cache_size, p.s3.GetByteSize("cache_size", 10ull << 30));
  ws->query_cache_ = std::make_unique<storage::ReadThroughCache>(ws->state_dir() / "cache", cache_size);
  SLUICE_ASSIGN_OR_RETURN(ws->catalog_, catalog::OpenMetadataStore(p.catalog, ws->clock_));

  engine::DatabaseOptions engine_options;
  engine_options.temp_directory = (ws->state_dir() / "tmp").string();
  SLUICE_ASSIGN_OR_RETURN(engine_options.memory_limit, p.engine.GetString("memory_limit", "2GB"));
  SLUICE_ASSIGN_OR_RETURN(int64_t threads, p.engine.GetInt("threads", 0));
  engine_options.threads = static_cast<int>(threads);
  SLUICE_ASSIGN_OR_RETURN(ws->engine_, engine::Database::Open(engine_options));

  connectors::RegisterBuiltinSources(ws->sources_);
  return ws;
}

std::filesystem::path Workspace::RunLogPath(const std::string& run_id) const {
  return state_dir() / "runs" / (run_id + ".log");
}

}  // namespace sluice::pipeline
