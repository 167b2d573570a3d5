#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/status.hpp"
#include "storage/s3/sigv4.hpp"

namespace sluice::storage::s3 {

/// Looks up an environment variable (injectable for tests); nullopt = unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnvironment();

/// How to reach an S3-compatible service. Empty strings mean "not set here": CompleteS3Options fills
/// them from the AWS environment variables and the shared credentials file.
struct S3Options {
  std::string endpoint;            // "http(s)://host[:port]"; "" = AWS (https://s3.<region>.amazonaws.com)
  std::string region;              // "" = AWS_REGION, AWS_DEFAULT_REGION, else us-east-1
  std::optional<bool> path_style;  // unset = true with an endpoint (local servers), false for AWS
  /// Turning this off accepts any certificate: only for throwaway test endpoints.
  bool verify_tls = true;
  std::optional<Credentials> credentials;  // explicit keys (the project's s3: block)
  std::string profile;                     // "" = AWS_PROFILE, else "default"

  uint64_t part_size = 8ull << 20;            // multipart part size (AWS minimum 5 MiB except the last part)
  uint64_t multipart_threshold = 8ull << 20;  // objects above this size are uploaded in parts
  int upload_concurrency = 4;                 // multipart parts sent at once (1 = one after another)
  uint64_t read_chunk_size = 8ull << 20;      // ranged GET size of streaming reads
  int list_page_size = 1000;                  // max-keys of one ListObjectsV2 page
  int max_attempts = 6;                       // per request (first try included)
  std::chrono::milliseconds retry_base_delay{100};
  std::chrono::milliseconds retry_max_delay{5000};
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds stall_timeout{60};  // a transfer moving no bytes for this long fails (and is retried)
};

/// Fills what `given` leaves unset: credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
/// AWS_SESSION_TOKEN, else the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or
/// ~/.aws/credentials, profile from `profile` or AWS_PROFILE or "default"); region from AWS_REGION /
/// AWS_DEFAULT_REGION; endpoint from AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL. No credentials anywhere
/// is Status::Invalid listing the places looked at.
Result<S3Options> CompleteS3Options(S3Options given, const EnvLookup& getenv);

}  // namespace sluice::storage::s3
