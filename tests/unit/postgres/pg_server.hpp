#pragma once

// A real PostgreSQL 15 server for a GoogleTest suite: started once per suite through
// scripts/pg_test_server.py (a private cluster on a free 127.0.0.1 port), stopped by pid after it.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "connectors/postgres/pg_client.hpp"
#include "engine/engine.hpp"

namespace sluice::postgres::testing {

struct PgServerInfo {
  int port = 0;
  int pid = 0;
  std::string dir;
  std::string url;  // postgresql://sluice@127.0.0.1:PORT/postgres (password separate)
  std::string password;
};

inline std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

/// The repository's scripts/pg_test_server.py: from SLUICE_SOURCE_DIR (set by ctest), else
/// relative to this header, so the test binary also runs on its own.
inline std::string PgServerScript() {
  if (const char* root = std::getenv("SLUICE_SOURCE_DIR"); root != nullptr && *root != '\0') {
    return (std::filesystem::path(root) / "scripts" / "pg_test_server.py").string();
  }
  return (std::filesystem::path(__FILE__).parent_path() / ".." / ".." / ".." / "scripts" / "pg_test_server.py")
      .lexically_normal()
      .string();
}

/// Runs a command, returning its exit code, its stdout (the only part read as data) and its stderr
/// (for messages), kept apart so a warning can never be mistaken for output.
inline int RunCommand(const std::string& command, std::string* output, std::string* errors) {
  output->clear();
  errors->clear();
  std::string pattern = (std::filesystem::temp_directory_path() / "sluice-pg-stderr-XXXXXX").string();
  int fd = mkstemp(pattern.data());
  if (fd < 0) return -1;
  ::close(fd);
  FILE* pipe = popen((command + " 2>" + ShellQuote(pattern)).c_str(), "r");
  if (pipe == nullptr) {
    std::filesystem::remove(pattern);
    return -1;
  }
  std::array<char, 4096> buffer{};
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output->append(buffer.data(), n);
  int status = pclose(pipe);
  std::ifstream stderr_file(pattern);
  errors->assign(std::istreambuf_iterator<char>(stderr_file), std::istreambuf_iterator<char>());
  std::filesystem::remove(pattern);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// Starts a server in a fresh temp dir; on failure returns nullopt and explains in `error`.
inline std::optional<PgServerInfo> StartPgServer(std::string* error) {
  std::string pattern = (std::filesystem::temp_directory_path() / "sluice-pg-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    *error = "mkdtemp failed";
    return std::nullopt;
  }
  std::string output, errors;
  int rc = RunCommand("/usr/bin/python3 " + ShellQuote(PgServerScript()) + " start " + ShellQuote(pattern), &output,
                      &errors);
  if (rc != 0) {
    *error = "pg_test_server.py start failed (exit " + std::to_string(rc) + "): " + errors + output;
    std::filesystem::remove_all(pattern);
    return std::nullopt;
  }
  // The JSON line is the last line of the output.
  size_t start = output.rfind('{');
  try {
    auto json = nlohmann::json::parse(output.substr(start == std::string::npos ? 0 : start));
    PgServerInfo info;
    info.port = json.at("port").get<int>();
    info.pid = json.at("pid").get<int>();
    info.dir = json.at("dir").get<std::string>();
    info.url = json.at("url").get<std::string>();
    info.password = json.at("password").get<std::string>();
    return info;
  } catch (const std::exception& e) {
    *error = std::string("cannot parse pg_test_server.py output: ") + e.what() + ": " + output + errors;
    return std::nullopt;
  }
}

inline void StopPgServer(const PgServerInfo& info) {
  std::string output, errors;
  int rc = RunCommand("/usr/bin/python3 " + ShellQuote(PgServerScript()) + " stop " + ShellQuote(info.dir), &output,
                      &errors);
  if (rc != 0) ADD_FAILURE() << "stopping the test PostgreSQL server (pid " << info.pid << ") failed: " << errors;
  std::error_code ignored;
  std::filesystem::remove_all(info.dir, ignored);
}

/// Base fixture: one server per test suite; Connect() opens a client as the password role.
class PgServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    server_ = StartPgServer(&error);
    if (!server_) start_error_ = error;
  }

  static void TearDownTestSuite() {
    if (server_) StopPgServer(*server_);
    server_.reset();
  }

  void SetUp() override { ASSERT_TRUE(server_.has_value()) << "no test PostgreSQL server: " << start_error_; }

  static std::unique_ptr<PgClient> Connect() {
    auto client = PgClient::Connect(server_->url, Secret(server_->password));
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  static inline std::optional<PgServerInfo> server_;
  static inline std::string start_error_;
};

/// A client of the suite's server (pg_) and an in-memory engine (duck_), for tests that move rows
/// between the two.
class PgAndEngineTest : public PgServerTest {
 protected:
  void SetUp() override {
    PgServerTest::SetUp();
    pg_ = Connect();
    ASSERT_NE(pg_, nullptr);
    auto db = engine::Database::Open({});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(db).value();
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok()) << conn.status();
    duck_ = std::move(conn).value();
  }

  std::unique_ptr<PgClient> pg_;
  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::Connection> duck_;
};

}  // namespace sluice::postgres::testing
