#include "connectors/s3_settings.hpp"

#include <algorithm>

#include "common/secret.hpp"

namespace sluice::connectors {

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
  SLUICE_ASSIGN_OR_RETURN(int64_t concurrency, s3.GetInt("upload_concurrency", options.upload_concurrency));
  options.upload_concurrency = static_cast<int>(std::clamp<int64_t>(concurrency, 1, 64));
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

}  // namespace sluice::connectors
