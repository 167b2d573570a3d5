#pragma once

// Test support for the S3 store: the repository's scripts (s3rver launcher, botocore signer, fault
// proxy, boto3 checks) run by Debian's /usr/bin/python3, and one s3rver per test process, started on
// first use on a free 127.0.0.1 port and stopped by pid when the process's tests end.

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <regex>
#include <string>

#include "storage/s3/s3_options.hpp"

namespace sluice::storage::testing {

inline std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

inline std::filesystem::path SourceDir() {
  if (const char* root = std::getenv("SLUICE_SOURCE_DIR"); root != nullptr && *root != '\0') return root;
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
}

/// Runs a shell command; returns its exit code, stdout+stderr in `output`.
inline int RunCommand(const std::string& command, std::string* output) {
  output->clear();
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  std::array<char, 4096> buffer{};
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output->append(buffer.data(), n);
  int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline std::string Python() { return "/usr/bin/python3"; }

inline std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
      out += buffer;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

inline constexpr const char* kTestBucket = "lake";

struct S3TestServer {
  std::string dir;
  std::string endpoint;  // http://127.0.0.1:PORT
  int port = 0;
  std::string error;  // why it did not start

  bool ok() const { return port != 0; }

  /// Complete options for this server (credentials are s3rver's defaults; it checks no signatures).
  s3::S3Options Options() const {
    s3::S3Options options;
    options.endpoint = endpoint;
    options.region = "us-east-1";
    options.path_style = true;
    options.credentials = s3::Credentials{"S3RVER", Secret("S3RVER-secret-never-shown"), Secret()};
    options.retry_base_delay = std::chrono::milliseconds(5);
    options.retry_max_delay = std::chrono::milliseconds(50);
    return options;
  }
};

/// The process's s3rver (started on first call; stopped at exit).
inline S3TestServer& SharedS3Server() {
  static S3TestServer* server = [] {
    auto* s = new S3TestServer();
    std::string pattern = (std::filesystem::temp_directory_path() / "sluice-s3rver-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      s->error = "mkdtemp failed";
      return s;
    }
    s->dir = pattern;
    std::string script = (SourceDir() / "scripts" / "s3_test_server.py").string();
    std::string output;
    int rc = RunCommand(
        Python() + " " + ShellQuote(script) + " start " + ShellQuote(s->dir) + " --bucket " + kTestBucket, &output);
    std::smatch match;
    if (rc != 0 || !std::regex_search(output, match, std::regex("\"port\": ([0-9]+)"))) {
      s->error = "s3_test_server.py start failed (exit " + std::to_string(rc) + "): " + output;
      return s;
    }
    s->port = std::stoi(match[1]);
    s->endpoint = "http://127.0.0.1:" + std::to_string(s->port);
    std::atexit([] {
      S3TestServer& me = SharedS3Server();
      std::string out;
      std::string stop = (SourceDir() / "scripts" / "s3_test_server.py").string();
      RunCommand(Python() + " " + ShellQuote(stop) + " stop " + ShellQuote(me.dir), &out);
      std::error_code ignored;
      std::filesystem::remove_all(me.dir, ignored);
    });
    return s;
  }();
  return *server;
}

}  // namespace sluice::storage::testing
