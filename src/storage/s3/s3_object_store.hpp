#pragma once

#include <memory>
#include <string>

#include "storage/object_store.hpp"
#include "storage/s3/s3_options.hpp"

namespace sluice::storage::s3 {

/// The lake in an S3 bucket under an optional key prefix. Whole objects appear atomically (single PUT or
/// CompleteMultipartUpload); an aborted or killed multipart upload is never listed. `options` must be
/// complete (CompleteS3Options).
Result<std::unique_ptr<ObjectStore>> MakeS3ObjectStore(const std::string& bucket, const std::string& prefix,
                                                       S3Options options);

/// "s3://bucket/some/prefix" → {bucket, "some/prefix"}; Status::Invalid for a malformed URI.
Result<std::pair<std::string, std::string>> ParseS3Uri(const std::string& uri);

}  // namespace sluice::storage::s3
