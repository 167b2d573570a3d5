#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/ids.hpp"
#include "common/logging.hpp"

namespace sluice {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(LogCaptureTest, ConcurrentRunsKeepSeparateLogsIncludingTheirWorkerThreads) {
  auto dir = std::filesystem::temp_directory_path() / ("sluice-log-test-" + RandomHex(8));
  std::filesystem::create_directories(dir);
  auto run = [&](const std::string& name) {
    auto capture = LogCapture::ToFile((dir / (name + ".log")).string());
    ASSERT_NE(capture, nullptr);
    uint64_t id = LogCapture::Current();
    std::thread worker([id, name] {
      LogCaptureScope scope(id);
      for (int i = 0; i < 50; ++i) spdlog::info("{} worker line {}", name, i);
    });
    for (int i = 0; i < 50; ++i) spdlog::info("{} main line {}", name, i);
    worker.join();
  };
  std::thread a(run, "alpha"), b(run, "beta");
  a.join();
  b.join();
  spdlog::info("a line of nobody's run");

  std::string alpha = ReadFile(dir / "alpha.log"), beta = ReadFile(dir / "beta.log");
  EXPECT_NE(alpha.find("alpha worker line 49"), std::string::npos);
  EXPECT_NE(alpha.find("alpha main line 49"), std::string::npos);
  EXPECT_EQ(alpha.find("beta"), std::string::npos);
  EXPECT_NE(beta.find("beta worker line 0"), std::string::npos);
  EXPECT_EQ(beta.find("alpha"), std::string::npos);
  EXPECT_EQ(alpha.find("nobody"), std::string::npos);
  EXPECT_EQ(LogCapture::Current(), 0u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sluice
