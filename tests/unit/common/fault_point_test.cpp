#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "common/fault_point.hpp"

namespace sluice {
namespace {

class FaultPointTest : public ::testing::Test {
 protected:
  void TearDown() override {
    ::unsetenv("SLUICE_FAULTPOINT");
    ::unsetenv("SLUICE_FAULTPOINT_DIR");
    fault::ResetForTesting();
  }
  void Arm(const char* spec) {
    ::setenv("SLUICE_FAULTPOINT", spec, 1);
    fault::ResetForTesting();
  }
};

Status PassThrough(const char* name) {
  SLUICE_FAULT_POINT(name);
  return Status::OK();
}

TEST_F(FaultPointTest, OffByDefault) {
  fault::ResetForTesting();
  EXPECT_TRUE(fault::Hit("after_upload").ok());
}

TEST_F(FaultPointTest, ErrorActionFailsOnlyTheNamedPoint) {
  Arm("after_upload:error");
  Status st = PassThrough("after_upload");
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_NE(st.message().find("after_upload"), std::string::npos);
  EXPECT_TRUE(PassThrough("before_commit").ok());
}

TEST_F(FaultPointTest, HitCountActsOnTheNthHitOnly) {
  Arm("chunk_committed@3:error");
  EXPECT_TRUE(fault::Hit("chunk_committed").ok());
  EXPECT_TRUE(fault::Hit("chunk_committed").ok());
  EXPECT_FALSE(fault::Hit("chunk_committed").ok());
  EXPECT_TRUE(fault::Hit("chunk_committed").ok());
}

TEST_F(FaultPointTest, ValidateRejectsMalformedSpecs) {
  EXPECT_TRUE(fault::Validate("a:kill,b@2:pause, c:error").ok());
  EXPECT_FALSE(fault::Validate("a").ok());
  EXPECT_FALSE(fault::Validate("a:explode").ok());
  EXPECT_FALSE(fault::Validate("a@0:kill").ok());
  EXPECT_FALSE(fault::Validate("a@x:kill").ok());
  EXPECT_FALSE(fault::Validate(":kill").ok());
}

TEST_F(FaultPointTest, PauseWaitsForTheReleaseFile) {
  auto dir = std::filesystem::temp_directory_path() / ("sluice_fault_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ::setenv("SLUICE_FAULTPOINT_DIR", dir.c_str(), 1);
  Arm("staged:pause");
  auto paused = std::async(std::launch::async, [] { return fault::Hit("staged"); });
  // The marker is the observable state a test waits for; the point must not pass before release.
  while (!std::filesystem::exists(dir / "staged.reached")) std::this_thread::yield();
  EXPECT_EQ(paused.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  std::ofstream(dir / "staged.release").put('\n');
  EXPECT_TRUE(paused.get().ok());
  std::filesystem::remove_all(dir);
}

TEST_F(FaultPointTest, PauseEachHoldsEveryHitUntilItsOwnRelease) {
  auto dir = std::filesystem::temp_directory_path() / ("sluice_fault_each_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ::setenv("SLUICE_FAULTPOINT_DIR", dir.c_str(), 1);
  Arm("attempt:pause_each");
  for (int hit = 1; hit <= 2; ++hit) {
    auto paused = std::async(std::launch::async, [] { return fault::Hit("attempt"); });
    auto marker = dir / ("attempt." + std::to_string(hit) + ".reached");
    while (!std::filesystem::exists(marker)) std::this_thread::yield();
    // The first hit's release is still there: the second hit must not pass on it.
    EXPECT_EQ(paused.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
    std::ofstream(dir / ("attempt." + std::to_string(hit) + ".release")).put('\n');
    EXPECT_TRUE(paused.get().ok());
  }
  EXPECT_TRUE(fault::Validate("a:pause_each").ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sluice
