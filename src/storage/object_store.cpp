#include "storage/object_store.hpp"

#include "common/strings.hpp"
#include "storage/local_object_store.hpp"
#include "storage/s3/s3_object_store.hpp"

namespace sluice::storage {
namespace {

constexpr std::string_view kKeyHelp =
    "keys are '/'-separated paths relative to the lake root, e.g. 'raw/files/orders/part-1.parquet'";

Status CheckSegments(std::string_view what, std::string_view text, bool allow_trailing_slash) {
  if (text.size() > kMaxKeyBytes) {
    return Status::Invalid("invalid object {} '{}...': {} bytes is longer than the limit of {}; {}", what,
                           text.substr(0, 64), text.size(), kMaxKeyBytes, kKeyHelp);
  }
  if (text.find('\0') != std::string_view::npos) {
    return Status::Invalid("invalid object {} '{}': it contains a NUL byte; {}", what, text, kKeyHelp);
  }
  if (text.front() == '/') {
    return Status::Invalid("invalid object {} '{}': it starts with '/'; {}", what, text, kKeyHelp);
  }
  if (text.back() == '/' && !allow_trailing_slash) {
    return Status::Invalid("invalid object {} '{}': it ends with '/' (that names a folder, not an object); {}", what,
                           text, kKeyHelp);
  }
  std::string_view rest = text;
  if (allow_trailing_slash && rest.back() == '/') rest.remove_suffix(1);
  size_t start = 0;
  while (start <= rest.size()) {
    size_t end = rest.find('/', start);
    if (end == std::string_view::npos) end = rest.size();
    std::string_view segment = rest.substr(start, end - start);
    if (segment.empty()) {
      return Status::Invalid("invalid object {} '{}': it has an empty segment ('//'); {}", what, text, kKeyHelp);
    }
    if (segment == "." || segment == "..") {
      return Status::Invalid("invalid object {} '{}': it has a '{}' segment; {}", what, text, segment, kKeyHelp);
    }
    if (StartsWith(segment, kLocalTempPrefix)) {
      return Status::Invalid("invalid object {} '{}': names starting with '{}' are reserved for unfinished writes",
                             what, text, kLocalTempPrefix);
    }
    start = end + 1;
  }
  return Status::OK();
}

}  // namespace

Status ValidateObjectKey(std::string_view key) {
  if (key.empty()) return Status::Invalid("invalid object key '': the key is empty; {}", kKeyHelp);
  return CheckSegments("key", key, false);
}

Status ValidateObjectPrefix(std::string_view prefix) {
  if (prefix.empty()) return Status::OK();
  return CheckSegments("prefix", prefix, true);
}

Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const std::string& uri) {
  return OpenObjectStore(uri, s3::S3Options(), s3::ProcessEnvironment());
}

Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const std::string& uri, const s3::S3Options& s3_options,
                                                     const s3::EnvLookup& getenv) {
  if (uri.empty()) {
    return Status::Invalid("empty lake location: set 'lake:' to a local folder (./lake) or s3://bucket/prefix");
  }
  std::string lower = ToLower(uri);
  if (StartsWith(lower, "s3://")) {
    SLUICE_ASSIGN_OR_RETURN(auto location, s3::ParseS3Uri(uri));
    auto completed = s3::CompleteS3Options(s3_options, getenv);
    if (!completed.ok()) return Status::Invalid("lake '{}': {}", uri, completed.status().message());
    return s3::MakeS3ObjectStore(location.first, location.second, std::move(*completed));
  }
  std::filesystem::path root;
  if (StartsWith(lower, "file://")) {
    std::string_view rest = std::string_view(uri).substr(7);
    if (StartsWith(rest, "localhost/")) rest.remove_prefix(9);
    if (rest.empty() || rest.front() != '/') {
      return Status::Invalid("lake '{}': a file:// URI needs an absolute path, e.g. file:///data/lake", uri);
    }
    root = std::filesystem::path(std::string(rest));
  } else {
    size_t scheme_end = uri.find("://");
    if (scheme_end != std::string::npos && uri.find('/') > scheme_end) {
      return Status::Invalid(
          "lake '{}': unsupported scheme '{}'; use a local folder, file:///path or s3://bucket/prefix", uri,
          uri.substr(0, scheme_end));
    }
    root = std::filesystem::path(uri);
  }
  return MakeLocalObjectStore(root);
}

}  // namespace sluice::storage
