// Each process spills into its own folder under <project>/.sluice/tmp, and the folders of ended
// processes are swept, against the real filesystem and a real DuckDB.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "pipeline/spill_folder.hpp"
#include "pipeline/workspace.hpp"

namespace sluice::pipeline {
namespace {
namespace fs = std::filesystem;

class SpillFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sluice-spill-XXXXXX";
    dir_ = ::mkdtemp(pattern);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Workspace> OpenWorkspace(config::Value engine = config::Value()) {
    config::ProjectConfig project;
    project.engine = std::move(engine);
    project.root = dir_;
    project.file = dir_ / "sluice.yaml";
    project.lake = (dir_ / "lake").string();
    project.catalog = (dir_ / ".sluice" / "catalog.db").string();
    auto ws = Workspace::Open(project, std::make_shared<SystemClock>(), nullptr);
    EXPECT_TRUE(ws.ok()) << ws.status();
    return ws.ok() ? std::move(ws).value() : nullptr;
  }

  static std::string EngineTempDirectory(Workspace& ws) {
    auto conn = ws.engine().Connect();
    EXPECT_TRUE(conn.ok()) << conn.status();
    auto result = (*conn)->Query("SELECT current_setting('temp_directory') AS dir");
    EXPECT_TRUE(result.ok()) << result.status();
    return result->Get(0, "dir");
  }

  fs::path dir_;
};

TEST_F(SpillFolderTest, TwoWorkspacesOfOneProjectSpillIntoDifferentFolders) {
  auto first = OpenWorkspace();
  auto second = OpenWorkspace();
  ASSERT_TRUE(first && second);
  std::string first_dir = EngineTempDirectory(*first), second_dir = EngineTempDirectory(*second);
  EXPECT_NE(first_dir, second_dir);
  EXPECT_EQ(fs::path(first_dir).parent_path(), dir_ / ".sluice" / "tmp");
  EXPECT_EQ(fs::path(first_dir), first->spill_dir());
  EXPECT_TRUE(fs::is_directory(first_dir));

  // Closing one leaves the other's folder and whatever it spilled alone.
  std::ofstream(fs::path(second_dir) / "duckdb_temp_block-4096.block") << "spilled";
  first.reset();
  EXPECT_FALSE(fs::exists(first_dir));
  EXPECT_TRUE(fs::exists(fs::path(second_dir) / "duckdb_temp_block-4096.block"));
  second.reset();
  EXPECT_FALSE(fs::exists(second_dir));
}

TEST_F(SpillFolderTest, EngineTempDirectoryIsWhereEachProcessGetsItsFolder) {
  auto ws = OpenWorkspace(config::Value::Map({{"temp_directory", config::Value::Scalar("scratch/spill")}}));
  ASSERT_TRUE(ws);
  EXPECT_EQ(fs::path(EngineTempDirectory(*ws)).parent_path(), dir_ / "scratch" / "spill");
}

TEST_F(SpillFolderTest, FoldersOfEndedProcessesAreSweptLiveOnesKept) {
  fs::path root = dir_ / "tmp";
  // A child claims a folder and dies without cleaning up (as SIGKILL would leave it).
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto claimed = SpillFolder::Claim(root);
    if (!claimed.ok()) ::_exit(1);
    std::ofstream((*claimed)->path() / "duckdb_temp_block-4096.block") << "orphan";
    ::_exit(0);  // no destructors: the folder stays, its lock is released by the kernel
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::vector<fs::path> left;
  for (const auto& e : fs::directory_iterator(root)) {
    if (e.is_directory()) left.push_back(e.path());
  }
  ASSERT_EQ(left.size(), 1u);
  fs::path dead = left.front();
  // A folder without a lock file is not a spill folder of ours.
  fs::create_directories(root / "kept-by-someone");

  auto live = SpillFolder::Claim(root);
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_FALSE(fs::exists(dead.string() + ".lock"));
  EXPECT_TRUE(fs::exists(root / "kept-by-someone"));

  // A live holder's folder survives another process's sweep.
  EXPECT_EQ(SweepStaleSpillFolders(root), 0);
  EXPECT_TRUE(fs::is_directory((*live)->path()));
  fs::path own = (*live)->path();
  live->reset();
  EXPECT_FALSE(fs::exists(own));
  EXPECT_FALSE(fs::exists(own.string() + ".lock"));
}

}  // namespace
}  // namespace sluice::pipeline
