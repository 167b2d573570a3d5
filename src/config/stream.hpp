#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/secret.hpp"
#include "config/options.hpp"
#include "config/project.hpp"
#include "config/value.hpp"

namespace sluice::config {

/// An access key an AWS SDK's Firehose client signs its requests with (SigV4).
struct StreamAwsKey {
  std::string id;
  Secret secret;
};

/// One entry of `streams:` in sluice.yaml: an HTTP endpoint whose records land in a lake table (docs/streams.md).
struct StreamConfig {
  std::string name;
  Secret token;  // empty: only server.token authorises producers
  std::string zone = "raw";
  std::string table;
  std::string schema_evolution = "quarantine";  // evolve | quarantine
  uint64_t max_bytes = 64ull << 20;
  std::chrono::microseconds max_age = std::chrono::seconds(60);
  std::vector<std::string> partition_by;
  std::vector<std::pair<std::string, std::string>> columns;  // derived column name → SQL expression, in file order
  std::vector<StreamAwsKey> aws_access_keys;
  uint64_t max_record_size = 1ull << 20;
  uint64_t max_request_bytes = 4ull << 20;
  int64_t max_request_records = 500;
  uint64_t max_spool_bytes = 1ull << 30;
  int64_t max_active_partitions = 100;
};

/// Keys of one stream, of its target:, buffer: and of each aws_access_keys entry (validation and docs/streams.md).
const std::vector<OptionSpec>& StreamKeys();
const std::vector<OptionSpec>& StreamTargetKeys();
const std::vector<OptionSpec>& StreamBufferKeys();
const std::vector<OptionSpec>& StreamAwsKeyKeys();

/// Reads the (resolved, environment-merged) `streams:` section; every problem goes to `errors` with
/// the file position and the key (`streams.NAME.buffer.max_age`).
std::vector<StreamConfig> ReadStreams(const Value& section, const std::string& display,
                                      std::vector<std::string>* errors);

/// The streams of a loaded project (LoadProject has checked them), file order.
std::vector<StreamConfig> ProjectStreams(const ProjectConfig& project);

}  // namespace sluice::config
