#include "catalog/sqlite_metadata_store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "catalog/sqlite_connection.hpp"
#include "metadata_store_conformance.hpp"

namespace sluice::catalog::testing {

INSTANTIATE_TEST_SUITE_P(Sqlite, MetadataStoreConformance,
                         ::testing::Values(StoreBackend{
                             "Sqlite", [](const std::filesystem::path& dir) { return (dir / "catalog.db").string(); }}),
                         BackendName);

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class SqliteMetadataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sluice-sqlite-test-" + RandomHex(8));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  /// A plain connection to inspect or tamper with the file behind the store's back.
  std::unique_ptr<sqlite::Connection> Raw(const std::filesystem::path& file) {
    auto connection = sqlite::Connection::Open(file.string(), std::chrono::milliseconds(5000));
    EXPECT_TRUE(connection.ok()) << connection.status();
    return connection.ok() ? std::move(connection).value() : nullptr;
  }

  static std::string QueryText(sqlite::Connection& connection, const std::string& sql) {
    auto statement = connection.Prepare(sql);
    EXPECT_TRUE(statement.ok()) << statement.status();
    if (!statement.ok()) return "";
    auto row = statement->Step();
    EXPECT_TRUE(row.ok() && *row) << sql;
    return row.ok() && *row ? statement->Text(0) : "";
  }

  static CommitRequest OneFile(const std::string& path) {
    TableChange change;
    change.table = TableName{"raw", "t"};
    change.location = "raw/t";
    change.added = {DataFile{path, 1, 1, {}, 0}};
    CommitRequest request;
    request.tables = {change};
    return request;
  }

  std::filesystem::path dir_;
  std::shared_ptr<Clock> clock_ = std::make_shared<SystemClock>();
};

TEST_F(SqliteMetadataStoreTest, OpenCreatesFoldersAndDescribesTheAbsolutePath) {
  auto file = dir_ / "nested" / "deeper" / "catalog.db";
  auto store = OpenMetadataStore(file.string(), clock_);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE(std::filesystem::exists(file));
  EXPECT_EQ((*store)->Describe(), "sqlite:" + file.string());

  auto prefixed = OpenMetadataStore("sqlite:" + file.string(), clock_);
  ASSERT_TRUE(prefixed.ok()) << prefixed.status();
  EXPECT_EQ((*prefixed)->Describe(), "sqlite:" + file.string());
}

TEST_F(SqliteMetadataStoreTest, RelativePathsAreResolvedAgainstTheWorkingDirectory) {
  auto previous = std::filesystem::current_path();
  std::filesystem::current_path(dir_);
  auto store = OpenMetadataStore(".sluice/catalog.db", clock_);
  std::filesystem::current_path(previous);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->Describe(), "sqlite:" + (dir_ / ".sluice/catalog.db").string());
  EXPECT_TRUE(std::filesystem::exists(dir_ / ".sluice" / "catalog.db"));
}

TEST_F(SqliteMetadataStoreTest, FileUsesWalAndRecordsItsSchemaVersion) {
  auto file = dir_ / "catalog.db";
  ASSERT_TRUE(OpenMetadataStore(file.string(), clock_).ok());
  auto raw = Raw(file);
  ASSERT_NE(raw, nullptr);
  EXPECT_EQ(QueryText(*raw, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(QueryText(*raw, "SELECT version FROM schema_version"), std::to_string(SqliteMetadataStore::kSchemaVersion));
  EXPECT_EQ(QueryText(*raw, "SELECT count(*) FROM schema_version"), "1");
  // Re-opening an up-to-date file leaves it alone.
  ASSERT_TRUE(OpenMetadataStore(file.string(), clock_).ok());
  EXPECT_EQ(QueryText(*raw, "SELECT count(*) FROM schema_version"), "1");
}

TEST_F(SqliteMetadataStoreTest, AnEmptyExistingDatabaseIsMigrated) {
  auto file = dir_ / "catalog.db";
  {
    auto raw = Raw(file);
    ASSERT_NE(raw, nullptr);
    ASSERT_TRUE(raw->Execute("CREATE TABLE unrelated (x INTEGER)").ok());
  }
  auto store = OpenMetadataStore(file.string(), clock_);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->Commit(OneFile("a")).ok());
}

TEST_F(SqliteMetadataStoreTest, ACatalogFromANewerSluiceIsRefused) {
  auto file = dir_ / "catalog.db";
  ASSERT_TRUE(OpenMetadataStore(file.string(), clock_).ok());
  {
    auto raw = Raw(file);
    ASSERT_NE(raw, nullptr);
    ASSERT_TRUE(raw->Execute("UPDATE schema_version SET version = 99").ok());
  }
  auto store = OpenMetadataStore(file.string(), clock_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(store.status().message(), HasSubstr("schema version 99"));
  EXPECT_THAT(store.status().message(), HasSubstr("upgrade sluice"));
}

TEST_F(SqliteMetadataStoreTest, AFileThatIsNotSqliteIsAClearError) {
  auto file = dir_ / "catalog.db";
  std::ofstream(file) << "name,age\nalice,30\n" << std::string(4096, 'x');
  auto store = OpenMetadataStore(file.string(), clock_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kDataError);
  EXPECT_THAT(store.status().message(), HasSubstr(file.string()));
  EXPECT_THAT(store.status().message(), HasSubstr("not a usable SQLite catalog"));
}

TEST_F(SqliteMetadataStoreTest, UnsupportedLocationsAreRefusedWithoutEchoingSecrets) {
  auto pg = OpenMetadataStore("postgresql://sluice:hunter2@meta.internal/sluice", clock_);
  ASSERT_FALSE(pg.ok());
  EXPECT_EQ(pg.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(pg.status().message(), HasSubstr("PostgreSQL metadata store is not built yet"));
  EXPECT_THAT(pg.status().message(), Not(HasSubstr("hunter2")));
  EXPECT_EQ(OpenMetadataStore("postgres://x@y/z", clock_).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenMetadataStore("   ", clock_).status().code(), StatusCode::kInvalidArgument);
  auto s3 = OpenMetadataStore("s3://bucket/catalog.db", clock_);
  EXPECT_EQ(s3.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s3.status().message(), HasSubstr("s3://"));
}

TEST_F(SqliteMetadataStoreTest, AWriterWaitsForTheLockThenReportsUnavailable) {
  auto file = dir_ / "catalog.db";
  auto opened = SqliteMetadataStore::Open(file, clock_, SqliteStoreOptions{std::chrono::milliseconds(200)});
  ASSERT_TRUE(opened.ok()) << opened.status();
  auto& store = **opened;
  ASSERT_TRUE(store.Commit(OneFile("a")).ok());
  auto patient_store = SqliteMetadataStore::Open(file, clock_, SqliteStoreOptions{std::chrono::minutes(2)});
  ASSERT_TRUE(patient_store.ok()) << patient_store.status();

  auto other_process = Raw(file);
  ASSERT_NE(other_process, nullptr);
  ASSERT_TRUE(other_process->Execute("BEGIN IMMEDIATE").ok());
  auto started = std::chrono::steady_clock::now();
  auto blocked = store.Commit(OneFile("b"));
  auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(blocked.status().retryable());
  EXPECT_THAT(blocked.status().message(), HasSubstr(file.string()));
  EXPECT_GE(waited, std::chrono::milliseconds(150)) << "the busy timeout was not honoured";
  // WAL: readers are not blocked by the writer.
  auto read = store.ListFiles(TableName{"raw", "t"});
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->size(), 1u);

  // A writer that releases the lock within the timeout lets the commit through. The timeout is
  // generous so the outcome never depends on how fast the releasing thread gets to run; the short
  // pause only makes it likely that the commit is already waiting when the lock goes.
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    (void)other_process->Execute("ROLLBACK");
  });
  auto waited_commit = (*patient_store)->Commit(OneFile("b"));
  release.join();
  ASSERT_TRUE(waited_commit.ok()) << waited_commit.status();
  EXPECT_EQ(waited_commit->versions.front(), 2);
}

TEST(SqliteConnectionTest, StatementsBindAndReadEveryType) {
  auto dir = std::filesystem::temp_directory_path() / ("sluice-sqlite-conn-" + RandomHex(8));
  std::filesystem::create_directories(dir);
  {
    auto connection = sqlite::Connection::Open((dir / "x.db").string(), std::chrono::milliseconds(100));
    ASSERT_TRUE(connection.ok()) << connection.status();
    auto& c = **connection;
    ASSERT_TRUE(c.Execute("CREATE TABLE t (i BIGINT, s TEXT, n BIGINT)").ok());
    auto insert = c.Prepare("INSERT INTO t VALUES (?, ?, ?)");
    ASSERT_TRUE(insert.ok());
    std::optional<int64_t> none;
    ASSERT_TRUE(insert->BindAll(int64_t{-9'000'000'000}, std::string("it's \0 ok", 9), none).ok());
    ASSERT_TRUE(insert->Run().ok());
    EXPECT_EQ(c.Changes(), 1);
    auto select = c.Prepare("SELECT i, s, n FROM t");
    ASSERT_TRUE(select.ok());
    ASSERT_TRUE(select->Step().value());
    EXPECT_EQ(select->Int(0), -9'000'000'000);
    EXPECT_EQ(select->Text(1), std::string("it's \0 ok", 9));
    EXPECT_TRUE(select->IsNull(2));
    EXPECT_EQ(select->OptionalInt(2), std::nullopt);
    EXPECT_FALSE(select->Step().value());

    auto bad = c.Prepare("SELEC nonsense");
    ASSERT_FALSE(bad.ok());
    EXPECT_THAT(bad.status().message(), HasSubstr("SELEC nonsense"));

    {
      auto transaction = sqlite::Transaction::Begin(c, "BEGIN IMMEDIATE");
      ASSERT_TRUE(transaction.ok());
      ASSERT_TRUE(c.Execute("DELETE FROM t").ok());
    }  // not committed: rolled back
    auto count = c.Prepare("SELECT count(*) FROM t");
    ASSERT_TRUE(count.ok());
    ASSERT_TRUE(count->Step().value());
    EXPECT_EQ(count->Int(0), 1);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sluice::catalog::testing
