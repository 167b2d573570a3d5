#include "storage/s3/s3_options.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/strings.hpp"

namespace sluice::storage::s3 {
namespace {

std::string TrimSpaces(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return "";
  size_t end = text.find_last_not_of(" \t\r");
  return std::string(text.substr(begin, end - begin + 1));
}

std::optional<std::string> NonEmpty(const EnvLookup& getenv, const std::string& name) {
  auto value = getenv(name);
  if (value && !value->empty()) return value;
  return std::nullopt;
}

/// The `[profile]` section of an AWS shared credentials file (INI).
Result<std::optional<Credentials>> ReadCredentialsFile(const std::filesystem::path& path, const std::string& profile) {
  std::ifstream in(path);
  if (!in) return std::optional<Credentials>();
  std::string line;
  bool in_profile = false;
  bool seen_profile = false;
  Credentials found;
  while (std::getline(in, line)) {
    std::string text = TrimSpaces(line);
    if (text.empty() || text[0] == '#' || text[0] == ';') continue;
    if (text.front() == '[' && text.back() == ']') {
      in_profile = TrimSpaces(std::string_view(text).substr(1, text.size() - 2)) == profile;
      seen_profile = seen_profile || in_profile;
      continue;
    }
    if (!in_profile) continue;
    size_t eq = text.find('=');
    if (eq == std::string::npos) continue;
    std::string name = ToLower(TrimSpaces(std::string_view(text).substr(0, eq)));
    std::string value = TrimSpaces(std::string_view(text).substr(eq + 1));
    if (name == "aws_access_key_id") found.access_key_id = value;
    if (name == "aws_secret_access_key") found.secret_access_key = Secret(value);
    if (name == "aws_session_token") found.session_token = Secret(value);
  }
  if (!seen_profile) return std::optional<Credentials>();
  if (found.access_key_id.empty() || found.secret_access_key.empty()) {
    return Status::Invalid(
        "S3 credentials: profile [{}] of {} lacks aws_access_key_id or aws_secret_access_key; add both or set "
        "s3.access_key_id and s3.secret_access_key in sluice.yaml",
        profile, path.string());
  }
  return std::optional<Credentials>(found);
}

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<S3Options> CompleteS3Options(S3Options options, const EnvLookup& getenv) {
  if (options.region.empty()) {
    options.region =
        NonEmpty(getenv, "AWS_REGION").value_or(NonEmpty(getenv, "AWS_DEFAULT_REGION").value_or("us-east-1"));
  }
  if (options.endpoint.empty()) {
    options.endpoint =
        NonEmpty(getenv, "AWS_ENDPOINT_URL_S3").value_or(NonEmpty(getenv, "AWS_ENDPOINT_URL").value_or(""));
  }
  if (!options.path_style) options.path_style = !options.endpoint.empty();
  if (options.credentials) {
    if (options.credentials->access_key_id.empty() || options.credentials->secret_access_key.empty()) {
      return Status::Invalid("S3 credentials: s3.access_key_id and s3.secret_access_key must be set together");
    }
    return options;
  }
  auto key_id = NonEmpty(getenv, "AWS_ACCESS_KEY_ID");
  auto secret = NonEmpty(getenv, "AWS_SECRET_ACCESS_KEY");
  if (key_id && secret) {
    options.credentials =
        Credentials{*key_id, Secret(*secret), Secret(NonEmpty(getenv, "AWS_SESSION_TOKEN").value_or(""))};
    return options;
  }
  std::string profile =
      !options.profile.empty() ? options.profile : NonEmpty(getenv, "AWS_PROFILE").value_or("default");
  std::filesystem::path file;
  if (auto custom = NonEmpty(getenv, "AWS_SHARED_CREDENTIALS_FILE")) {
    file = *custom;
  } else if (auto home = NonEmpty(getenv, "HOME")) {
    file = std::filesystem::path(*home) / ".aws" / "credentials";
  }
  if (!file.empty()) {
    SLUICE_ASSIGN_OR_RETURN(auto from_file, ReadCredentialsFile(file, profile));
    if (from_file) {
      options.credentials = std::move(from_file);
      return options;
    }
  }
  return Status::Invalid(
      "S3 credentials not found: set s3.access_key_id and s3.secret_access_key in sluice.yaml (e.g. "
      "${{env:AWS_ACCESS_KEY_ID}}), or the AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY environment variables, or "
      "profile [{}] in {}",
      profile, file.empty() ? std::string("~/.aws/credentials") : file.string());
}

}  // namespace sluice::storage::s3
