#include "server/api_token.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace sluice::server {
namespace {

namespace fs = std::filesystem;

class ApiTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice-api-token-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ApiTokenTest, GeneratesAnOwnerOnlyTokenOnceAndReusesIt) {
  auto first = ResolveApiToken(Secret(), dir_ / ".sluice");
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_TRUE(first->generated);
  EXPECT_EQ(first->file, dir_ / ".sluice" / "api_token");
  EXPECT_EQ(first->value.Reveal().size(), 64u);
  struct stat info {};
  ASSERT_EQ(::stat(first->file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);

  auto second = ResolveApiToken(Secret(), dir_ / ".sluice");
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_FALSE(second->generated);
  EXPECT_EQ(second->value, first->value);
}

TEST_F(ApiTokenTest, ServerTokenWinsAndWritesNothing) {
  auto token = ResolveApiToken(Secret("configured-token"), dir_ / ".sluice");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->value.Reveal(), "configured-token");
  EXPECT_TRUE(token->file.empty());
  EXPECT_FALSE(fs::exists(dir_ / ".sluice" / "api_token"));
}

TEST_F(ApiTokenTest, RefusesATokenFileOthersCanRead) {
  fs::create_directories(dir_ / ".sluice");
  std::ofstream(dir_ / ".sluice" / "api_token") << "abc\n";
  fs::permissions(dir_ / ".sluice" / "api_token",
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
  auto token = ResolveApiToken(Secret(), dir_ / ".sluice");
  ASSERT_FALSE(token.ok());
  EXPECT_NE(token.status().message().find("chmod 600"), std::string::npos) << token.status().message();
}

}  // namespace
}  // namespace sluice::server
