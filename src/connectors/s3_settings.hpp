#pragma once

#include "common/status.hpp"
#include "config/value.hpp"
#include "storage/s3/s3_options.hpp"

namespace sluice::connectors {

/// The project's `s3:` block as store options (explicit credentials only when both keys are set;
/// otherwise CompleteS3Options falls back to the AWS environment and shared credentials file). One
/// reading for the lake and for sources that read s3:// inputs, so both reach S3 the same way.
Result<storage::s3::S3Options> S3OptionsFromConfig(const config::Value& s3);

}  // namespace sluice::connectors
