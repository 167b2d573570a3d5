#include "connectors/s3_settings.hpp"

#include <algorithm>

#include "common/secret.hpp"
#include "config/option_reader.hpp"
#include "config/project.hpp"

namespace sluice::connectors {

Result<storage::s3::S3Options> S3OptionsFromConfig(const config::Value& s3) {
  storage::s3::S3Options options;
  if (s3.IsNull()) return options;
  config::OptionReader keys(s3, config::S3Keys());
  SLUICE_ASSIGN_OR_RETURN(options.endpoint, keys.String("endpoint"));
  SLUICE_ASSIGN_OR_RETURN(options.region, keys.String("region"));
  SLUICE_ASSIGN_OR_RETURN(options.profile, keys.String("profile"));
  if (const config::Value* path_style = keys.Find("path_style"); path_style != nullptr && !path_style->IsNull()) {
    SLUICE_ASSIGN_OR_RETURN(options.path_style, path_style->AsBool());
  }
  SLUICE_ASSIGN_OR_RETURN(options.verify_tls, keys.Bool("verify_tls"));
  SLUICE_ASSIGN_OR_RETURN(options.part_size, keys.ByteSize("part_size"));
  options.multipart_threshold = options.part_size;
  SLUICE_ASSIGN_OR_RETURN(int64_t concurrency, keys.Int("upload_concurrency"));
  options.upload_concurrency = static_cast<int>(std::clamp<int64_t>(concurrency, 1, 64));
  SLUICE_ASSIGN_OR_RETURN(int64_t attempts, keys.Int("max_attempts"));
  options.max_attempts = static_cast<int>(std::max<int64_t>(1, attempts));
  const config::Value* key_id = s3.Find("access_key_id");
  const config::Value* secret = s3.Find("secret_access_key");
  if (key_id != nullptr || secret != nullptr) {
    if (key_id == nullptr || secret == nullptr) {
      return Status::Invalid(
          "s3: set both access_key_id and secret_access_key (or neither, to use the AWS "
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
