#include "query/sandboxed_engine.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/strings.hpp"

namespace sluice::query {
namespace {

namespace fs = std::filesystem;

class SandboxedEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / fmt::format("sluice-sandbox-{}-{}", ::getpid(),
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "lake");
    fs::create_directories(root_ / "lake-private");
    std::ofstream(root_ / "lake" / "in.csv") << "a\n1\n2\n";
    std::ofstream(root_ / "lake-private" / "secret.csv") << "a\n42\n";
    SandboxOptions options;
    options.readable_folders = {root_ / "lake"};
    auto sandbox = SandboxedEngine::Open(options);
    ASSERT_TRUE(sandbox.ok()) << sandbox.status().message();
    sandbox_ = std::move(*sandbox);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string Path(const std::string& rel) const { return (root_ / rel).string(); }
  engine::Connection& connection() { return sandbox_->connection(); }

  fs::path root_;
  std::unique_ptr<SandboxedEngine> sandbox_;
};

TEST_F(SandboxedEngineTest, ReadsFilesInTheReadableFoldersOnly) {
  auto rows = connection().Query(fmt::format("SELECT sum(a) AS s FROM read_csv({})", SqlQuote(Path("lake/in.csv"))));
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  EXPECT_EQ(rows->Get(0, "s"), "3");
  for (const std::string& file : {std::string("/etc/passwd"), Path("lake-private/secret.csv")}) {
    std::string sql = fmt::format("SELECT * FROM read_csv({})", SqlQuote(file));
    Status st = CheckReadOnlyQuery(connection(), sql);
    ASSERT_FALSE(st.ok()) << file;
    EXPECT_NE(st.message().find("reads outside the lake are not allowed"), std::string::npos) << st.message();
    EXPECT_FALSE(connection().Query(sql).ok()) << file;
  }
}

TEST_F(SandboxedEngineTest, ItsConfigurationCannotBeChanged) {
  EXPECT_FALSE(connection().Execute("SET enable_external_access = true").ok());
  EXPECT_FALSE(connection().Execute(fmt::format("SET allowed_directories = [{}]", SqlQuote("/"))).ok());
  EXPECT_FALSE(connection().Execute("SET lock_configuration = false").ok());
  EXPECT_FALSE(connection().Query("SELECT * FROM read_text('/etc/hostname')").ok());
}

TEST_F(SandboxedEngineTest, OnlyOneSelectStatementPasses) {
  EXPECT_TRUE(CheckReadOnlyQuery(connection(), "SELECT 1").ok());
  EXPECT_TRUE(CheckReadOnlyQuery(connection(), "WITH t AS (SELECT 1 AS x) SELECT x FROM t").ok());
  EXPECT_TRUE(CheckReadOnlyQuery(connection(), "FROM range(3)").ok());
  EXPECT_TRUE(CheckReadOnlyQuery(connection(), "VALUES (1), (2)").ok());
  std::string target = Path("lake/out.csv");
  for (const std::string& sql :
       {fmt::format("SELECT 1; COPY (SELECT 42) TO {}", SqlQuote(target)),
        fmt::format("COPY (SELECT 42) TO {}", SqlQuote(target)), std::string("ATTACH ':memory:' AS other"),
        std::string("INSTALL httpfs"), std::string("LOAD httpfs"), std::string("SET threads = 1"),
        std::string("PRAGMA enable_profiling"), std::string("CREATE TABLE t (x INT)"),
        std::string("DROP TABLE IF EXISTS t"), std::string("EXPLAIN SELECT 1")}) {
    Status st = CheckReadOnlyQuery(connection(), sql);
    ASSERT_FALSE(st.ok()) << sql;
    EXPECT_NE(st.message().find("only one SELECT statement is allowed"), std::string::npos) << st.message();
  }
  EXPECT_FALSE(fs::exists(target));
  EXPECT_NE(CheckReadOnlyQuery(connection(), " -- nothing").message().find("empty"), std::string::npos);
}

TEST_F(SandboxedEngineTest, SpillsIntoItsOwnFolderUnderLockdown) {
  SandboxOptions options;
  options.readable_folders = {root_ / "lake"};
  options.spill_folder = root_ / "spill";
  options.memory_limit = "64MB";
  options.threads = 1;
  auto sandbox = SandboxedEngine::Open(options);
  ASSERT_TRUE(sandbox.ok()) << sandbox.status().message();
  // Sorting more than the memory limit holds must spill: the spill folder is not a read outside the lake.
  auto rows = (*sandbox)->connection().Query(
      "SELECT count(*) AS n FROM (SELECT i, md5(i::VARCHAR) AS h FROM range(3000000) t(i) ORDER BY h)");
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  EXPECT_EQ(rows->Get(0, "n"), "3000000");
}

}  // namespace
}  // namespace sluice::query
