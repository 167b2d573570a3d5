#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

namespace sluice::config::testing {

/// A fresh folder under the system temp dir, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sluice-config-test-XXXXXX").string();
    char* made = ::mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = std::filesystem::path(pattern);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  /// Writes `text` to `relative` (creating folders) and returns the absolute path.
  std::filesystem::path Write(const std::string& relative, const std::string& text) const {
    auto file = path_ / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary);
    out << text;
    return file;
  }

 private:
  std::filesystem::path path_;
};

/// A getenv that sees only `vars`, so tests do not depend on the caller's environment.
inline auto FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

/// The checkout's root: $SLUICE_SOURCE_DIR under ctest, else derived from this file's path.
inline std::filesystem::path SourceDir() {
  if (const char* dir = std::getenv("SLUICE_SOURCE_DIR"); dir != nullptr && *dir != '\0') return dir;
  auto root = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
  return root.empty() ? std::filesystem::current_path() : root;
}

}  // namespace sluice::config::testing
