#include <gtest/gtest.h>

#include "unit/connectors/option_docs.hpp"

#include <optional>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "config/options.hpp"
#include "config/value.hpp"
#include "connectors/sinks/lake/lake_sink.hpp"
#include "connectors/source.hpp"
#include "connectors/sources/files/files_source.hpp"
#include "connectors/sources/files/zip_extract.hpp"
#include "connectors/sources/http/http_download.hpp"
#include "connectors/sources/http/http_source.hpp"
#include "connectors/sources/postgres/cdc_source.hpp"
#include "connectors/sources/postgres/postgres_source.hpp"
#include "storage/local_object_store.hpp"

namespace sluice::connectors {
namespace {
namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/sluice-connectors-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  void Write(const std::string& rel, const std::string& text) const {
    fs::create_directories((path_ / rel).parent_path());
    std::ofstream(path_ / rel, std::ios::binary) << text;
  }

 private:
  fs::path path_;
};

config::Value Options(const std::string& yaml) {
  config::ParseOptions options;
  options.getenv = [](const std::string& name) -> std::optional<std::string> {
    if (name == "TEST_PG_PASSWORD") return "hunter2-secret";
    return std::nullopt;
  };
  auto parsed = config::ParseYaml(yaml, "test.yaml", options);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : config::Value();
}

TEST(SourceRegistryTest, BuiltinSourcesAreExactlyTheseNames) {
  SourceRegistry registry;
  RegisterBuiltinSources(registry);
  EXPECT_EQ(registry.Names(), (std::vector<std::string>{"files", "postgres", "http"}));
  EXPECT_FALSE(registry.Register(FilesSourceDescriptor()).ok());
}

TEST(FilesSourceTest, GlobMatchesWithinAndAcrossFolders) {
  TempDir dir;
  dir.Write("in/a.csv", "x\n");
  dir.Write("in/b.csv", "x\n");
  dir.Write("in/.hidden.csv", "x\n");
  dir.Write("in/sub/c.csv", "x\n");
  dir.Write("in/d.json", "{}\n");
  auto flat = ExpandGlob(dir.path(), "in/*.csv");
  ASSERT_TRUE(flat.ok());
  EXPECT_EQ(*flat, (std::vector<fs::path>{dir.path() / "in/a.csv", dir.path() / "in/b.csv"}));
  auto deep = ExpandGlob(dir.path(), "in/**.csv");
  ASSERT_TRUE(deep.ok());
  EXPECT_EQ(deep->size(), 3u);
  auto exact = ExpandGlob(dir.path(), "in/d.json");
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->size(), 1u);
  auto none = ExpandGlob(dir.path(), "missing/*.csv");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(FilesSourceTest, ObjectGlobMatchesKeysLikeLocalPaths) {
  TempDir dir;
  auto store = storage::MakeLocalObjectStore(dir.path());
  ASSERT_TRUE(store.ok()) << store.status();
  for (const char* key : {"in/a.csv", "in/b.csv.gz", "in/.hidden.csv", "in/sub/c.csv", "in/d.json", "inbox/e.csv"}) {
    ASSERT_TRUE((*store)->Put(key, "x\n").ok());
  }
  auto keys = [&](const std::string& pattern) {
    std::vector<std::string> out;
    auto found = ExpandObjectGlob(**store, pattern);
    EXPECT_TRUE(found.ok()) << found.status();
    if (found.ok()) {
      for (const auto& o : *found) out.push_back(o.key);
    }
    return out;
  };
  // The same matches ExpandGlob gives for the same tree: '*' within a folder, '**' across, .gz too.
  EXPECT_EQ(keys("in/*.csv"), (std::vector<std::string>{"in/a.csv", "in/b.csv.gz"}));
  EXPECT_EQ(keys("in/**.csv"), (std::vector<std::string>{"in/a.csv", "in/b.csv.gz", "in/sub/c.csv"}));
  EXPECT_EQ(keys("in/d.json"), (std::vector<std::string>{"in/d.json"}));
  EXPECT_EQ(keys("in"), (std::vector<std::string>{}));  // a key prefix is not a match without a wildcard
  EXPECT_EQ(keys("in*/e.csv"), (std::vector<std::string>{"inbox/e.csv"}));
  EXPECT_TRUE(keys("missing/*.csv").empty());
}

TEST(ZipExtractTest, RefusesMembersEscapingTheFolder) {
  TempDir dir;
  // A minimal stored zip with one member named "../evil.txt", built by hand.
  std::string name = "../evil.txt", data = "x";
  auto le16 = [](uint16_t v) { return std::string{static_cast<char>(v & 0xff), static_cast<char>(v >> 8)}; };
  auto le32 = [&](uint32_t v) { return le16(v & 0xffff) + le16(v >> 16); };
  uint32_t crc = 0x8cdc1683;  // crc32("x")
  std::string local = le32(0x04034b50) + le16(10) + le16(0) + le16(0) + le16(0) + le16(0) + le32(crc) + le32(1) +
                      le32(1) + le16(static_cast<uint16_t>(name.size())) + le16(0) + name + data;
  std::string central = le32(0x02014b50) + le16(20) + le16(10) + le16(0) + le16(0) + le16(0) + le16(0) + le32(crc) +
                        le32(1) + le32(1) + le16(static_cast<uint16_t>(name.size())) + le16(0) + le16(0) + le16(0) +
                        le16(0) + le32(0) + le32(0) + name;
  std::string end = le32(0x06054b50) + le16(0) + le16(0) + le16(1) + le16(1) +
                    le32(static_cast<uint32_t>(central.size())) + le32(static_cast<uint32_t>(local.size())) + le16(0);
  dir.Write("evil.zip", local + central + end);
  auto extracted = ExtractZip(dir.path() / "evil.zip", dir.path() / "out");
  ASSERT_FALSE(extracted.ok());
  EXPECT_NE(extracted.status().message().find("outside"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir.path() / "evil.txt"));
}

class FilesReadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = engine::Database::Open({});
    ASSERT_TRUE(db.ok());
    db_ = std::move(db).value();
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(conn).value();
    project_.root = dir_.path();
  }

  Result<std::unique_ptr<SourceReader>> OpenSource(const std::string& yaml, const Checkpoint& checkpoint = {}) {
    auto descriptor = FilesSourceDescriptor();
    BindContext bind{project_, "p", "j", ""};
    SLUICE_ASSIGN_OR_RETURN(source_, BindSource(descriptor, bind, Options(yaml)));
    fs::create_directories(dir_.path() / "work");
    return source_->Open(checkpoint, RunContext{clock_, dir_.path() / "work", "r1"});
  }

  TempDir dir_;
  SystemClock clock_;
  config::ProjectConfig project_;
  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::Connection> conn_;
  std::unique_ptr<Source> source_;
};

TEST_F(FilesReadTest, ReadsCsvAndCollectsRejectsWithLines) {
  dir_.Write("in/a.csv", "id,name\n1,a\n2\n3,c\n");
  auto reader = OpenSource("path: in/*.csv\n");
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_FALSE((*reader)->NothingToRead());
  ASSERT_TRUE((*reader)->Read(*conn_, "src").ok());
  auto rows = conn_->Query("SELECT id, name, _source_file FROM src ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows.size(), 2u);
  EXPECT_EQ(rows->Get(1, "name"), "c");
  EXPECT_EQ(rows->Get(0, "_source_file"), "in/a.csv");
  auto rejects = conn_->Query(fmt::format("SELECT * FROM {}", (*reader)->rejecting()->RejectsRelation()));
  ASSERT_TRUE(rejects.ok()) << rejects.status();
  ASSERT_EQ(rejects->rows.size(), 1u);
  EXPECT_EQ(rejects->Get(0, "_line"), "3");
  EXPECT_EQ(rejects->Get(0, "_source_file"), "in/a.csv");
  EXPECT_EQ(rejects->Get(0, "_raw_line"), "2");
}

TEST_F(FilesReadTest, ASingleCsvIsReadWithWhatTheSnifferFoundPinned) {
  // CRLF endings, a day-first date, a quote in a column name, a bad row: what the sniffer decides
  // is fixed in the view (no sniff at each bind) and reads exactly as auto-detection would.
  dir_.Write("in/a.csv", "id;it's;day\r\n1;a;31/01/2024\r\n2;b\r\n3;c;01/02/2024\r\n");
  auto reader = OpenSource("path: in/a.csv\ndelimiter: ';'\n");
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_TRUE((*reader)->Read(*conn_, "src").ok());
  auto view = conn_->Query("SELECT sql FROM duckdb_views() WHERE view_name = 'src'");
  ASSERT_TRUE(view.ok()) << view.status();
  ASSERT_EQ(view->rows.size(), 1u);
  EXPECT_NE(view->Get(0, "sql").find("auto_detect"), std::string::npos) << view->Get(0, "sql");
  auto rows = conn_->Query("SELECT id, \"it's\", day::VARCHAR AS day, typeof(day) AS type FROM src ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows.size(), 2u);
  EXPECT_EQ(rows->Get(0, "day"), "2024-01-31");
  EXPECT_EQ(rows->Get(1, "day"), "2024-02-01");
  EXPECT_EQ(rows->Get(1, "it's"), "c");
  EXPECT_EQ(rows->Get(0, "type"), "DATE");
  auto rejects = conn_->Query(fmt::format("SELECT * FROM {}", (*reader)->rejecting()->RejectsRelation()));
  ASSERT_TRUE(rejects.ok()) << rejects.status();
  ASSERT_EQ(rejects->rows.size(), 1u);
  EXPECT_EQ(rejects->Get(0, "_line"), "3");
  EXPECT_EQ(rejects->Get(0, "_raw_line"), "2;b");
}

TEST_F(FilesReadTest, SkipsInputsAlreadyInTheCheckpoint) {
  dir_.Write("in/a.csv", "id\n1\n");
  dir_.Write("in/b.csv", "id\n2\n");
  auto first = OpenSource("path: in/*.csv\n");
  ASSERT_TRUE(first.ok());
  auto checkpoint = (*first)->NewCheckpoint();
  ASSERT_EQ(checkpoint.consumed.size(), 2u);
  checkpoint.consumed.pop_back();  // pretend only a.csv was committed
  auto second = OpenSource("path: in/*.csv\n", checkpoint);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)->NewCheckpoint().consumed.size(), 1u);
  EXPECT_EQ((*second)->NewCheckpoint().consumed[0].path, "in/b.csv");
  auto nothing = OpenSource("path: in/*.csv\n", (*first)->NewCheckpoint());
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE((*nothing)->NothingToRead());
}

TEST_F(FilesReadTest, UnknownOptionIsRejectedWithHint) {
  auto reader = OpenSource("path: in/*.csv\ndelimeter: ';'\n");
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.status().message().find("did you mean 'delimiter'"), std::string::npos) << reader.status().message();
}

TEST_F(FilesReadTest, MixedFormatsNeedAnExplicitFormat) {
  dir_.Write("in/a.csv", "id\n1\n");
  dir_.Write("in/b.json", "{\"id\": 2}\n");
  auto reader = OpenSource("path: in/*\n");
  ASSERT_TRUE(reader.ok());
  auto read = (*reader)->Read(*conn_, "src");
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("different formats"), std::string::npos);
}

TEST(LakeSinkTest, StagesParquetWithStatsThenUploads) {
  TempDir dir;
  auto db = engine::Database::Open({});
  ASSERT_TRUE(db.ok());
  auto conn = (*db)->Connect();
  ASSERT_TRUE(conn.ok());
  LakeWriteRequest request;
  request.select_sql = "SELECT i, i % 3 AS bucket FROM range(1000) t(i)";
  request.staging_dir = dir.path() / "staging";
  request.data_prefix = "raw/x/t";
  request.fixed_partitions = {{"_load_date", "2026-11-23"}};
  request.partition_by = {"bucket"};
  request.file_prefix = "part-r1";
  auto staged = WriteParquetToStaging(**conn, request);
  ASSERT_TRUE(staged.ok()) << staged.status();
  ASSERT_EQ(staged->size(), 3u);
  int64_t total = 0;
  for (const auto& f : *staged) {
    total += f.rows;
    EXPECT_EQ(f.partition_values.front(), (std::pair<std::string, std::string>{"_load_date", "2026-11-23"}));
    EXPECT_EQ(f.partition_values.back().first, "bucket");
    EXPECT_EQ(f.key.rfind("raw/x/t/_load_date=2026-11-23/bucket=", 0), 0u) << f.key;
  }
  EXPECT_EQ(total, 1000);
  auto store = storage::MakeLocalObjectStore(dir.path() / "lake");
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(UploadStaged(**store, *staged).ok());
  auto listed = (*store)->List("raw/x/t/");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 3u);
  EXPECT_FALSE(fs::exists((*staged)[0].local));  // the local store took the file over
}

TEST(LakeSinkTest, PartitionFilesOverTheTargetSizeAreSplit) {
  TempDir dir;
  auto db = engine::Database::Open({});
  ASSERT_TRUE(db.ok());
  auto conn = (*db)->Connect();
  ASSERT_TRUE(conn.ok());
  LakeWriteRequest request;
  // Partition 0 holds 600k incompressible rows (several MB), partition 1 ten rows.
  request.select_sql =
      "SELECT CASE WHEN i < 600000 THEN 0 ELSE 1 END AS bucket, md5(i::VARCHAR) AS v "
      "FROM range(600010) t(i)";
  request.staging_dir = dir.path() / "staging";
  request.data_prefix = "silver/t";
  request.partition_by = {"bucket"};
  request.target_file_bytes = 4ull << 20;
  request.file_prefix = "part-r1";
  auto staged = WriteParquetToStaging(**conn, request);
  ASSERT_TRUE(staged.ok()) << staged.status();
  std::map<std::string, std::pair<int64_t, int64_t>> by_bucket;  // files, rows
  for (const auto& f : *staged) {
    ASSERT_EQ(f.partition_values.size(), 1u);
    auto& entry = by_bucket[f.partition_values[0].second];
    entry.first += 1;
    entry.second += f.rows;
    EXPECT_EQ(f.key.rfind("silver/t/bucket=" + f.partition_values[0].second + "/part-r1-", 0), 0u) << f.key;
    EXPECT_TRUE(fs::exists(f.local)) << f.local;
    // About the target: DuckDB rotates after the row group that crosses it.
    EXPECT_LT(static_cast<uint64_t>(f.bytes), 2 * request.target_file_bytes) << f.key;
    auto rows =
        (*conn)->Query("SELECT count(*) AS n FROM read_parquet('" + f.local.string() + "', hive_partitioning = false)");
    ASSERT_TRUE(rows.ok()) << rows.status();
    EXPECT_EQ(rows->GetInt(0, "n"), f.rows);
  }
  EXPECT_GT(by_bucket["0"].first, 1);
  EXPECT_EQ(by_bucket["0"].second, 600000);
  EXPECT_EQ(by_bucket["1"], (std::pair<int64_t, int64_t>{1, 10}));
  // Nothing but the staged files is left behind (the oversized original and the split scratch are gone).
  size_t on_disk = 0;
  for (const auto& e : fs::recursive_directory_iterator(request.staging_dir)) on_disk += e.is_regular_file();
  EXPECT_EQ(on_disk, staged->size());
}

TEST(HttpSourceTest, RedactedUrlsKeepNoCredentials) {
  EXPECT_EQ(RedactUrl("https://alice:pw@example.org:8443/a/b.csv?token=abc&x=1#frag"),
            "https://example.org:8443/a/b.csv?token=***&x=***#frag");
  EXPECT_EQ(RedactUrl("http://127.0.0.1:8000/indicators.zip"), "http://127.0.0.1:8000/indicators.zip");
  EXPECT_EQ(RedactUrl("http://host/p@th/file.csv"), "http://host/p@th/file.csv");  // '@' in the path is not userinfo
}

TEST(HttpSourceTest, BindChecksUrlAndModeWithoutNetwork) {
  config::ProjectConfig project;
  BindContext bind{project, "p", "j", ""};
  auto bad = BindSource(HttpSourceDescriptor(), bind, Options("url: ftp://host/x.csv\n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("http:// or https://"), std::string::npos) << bad.status();
  auto good = BindSource(HttpSourceDescriptor(), bind, Options("url: http://127.0.0.1:1/x.csv\nretries: 0\n"));
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_TRUE((*good)->plan().snapshot);
  EXPECT_EQ((*good)->plan().connector, "http");
  bind.request.mode = config::LoadMode::kWindow;
  EXPECT_FALSE(BindSource(HttpSourceDescriptor(), bind, Options("url: http://127.0.0.1:1/x.csv\n")).ok());
}

TEST(HttpSourceTest, RefusedConnectionFailsNamingTheUrlAfterRetries) {
  TempDir dir;
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  DownloadRequest request;
  request.url = "http://user:secret@127.0.0.1:1/x.csv";
  request.retries = 2;
  request.retry_backoff = std::chrono::milliseconds(1);
  auto result = Download(request, dir.path() / "x.csv");
  ASSERT_FALSE(result.ok());
  const std::string& message = result.status().message();
  EXPECT_NE(message.find("http://127.0.0.1:1/x.csv"), std::string::npos) << message;
  EXPECT_NE(message.find("after 3 attempts"), std::string::npos) << message;
  EXPECT_EQ(message.find("secret"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(dir.path() / "x.csv"));
}

/// docs/connectors/*.md carry the option tables generated from the descriptors; regenerate with
/// SLUICE_UPDATE_DOCS=1.
TEST(ConnectorDocsTest, OptionTablesAreCurrent) {
  SourceRegistry registry;
  RegisterBuiltinSources(registry);
  for (const auto& d : registry.descriptors()) {
    test_support::ExpectOptionTableCurrent("docs/connectors/" + d.name + ".md", d.options);
  }
}

/// The job's cdc: section and its heartbeat: map (docs/connectors/postgres-cdc.md).
TEST(ConnectorDocsTest, CdcKeyTablesAreCurrent) {
  for (const auto& [name, keys] :
       {std::pair{"cdc", &PostgresCdcKeys()}, std::pair{"cdc_heartbeat", &PostgresCdcHeartbeatKeys()}}) {
    std::string problem = test_support::UpdateOrCompareKeysSection("docs/connectors/postgres-cdc.md", name,
                                                                   config::OptionsMarkdown(*keys));
    EXPECT_TRUE(problem.empty()) << problem;
    for (const auto& bad : config::InvalidDefaults(*keys)) ADD_FAILURE() << name << ": " << bad;
  }
}

/// The job's window: and partitioning: sections of mode: window (docs/connectors/postgres.md).
TEST(ConnectorDocsTest, WindowKeyTablesAreCurrent) {
  for (const auto& [name, keys] :
       {std::pair{"window", &PostgresWindowKeys()}, std::pair{"partitioning", &PostgresPartitioningKeys()}}) {
    std::string problem =
        test_support::UpdateOrCompareKeysSection("docs/connectors/postgres.md", name, config::OptionsMarkdown(*keys));
    EXPECT_TRUE(problem.empty()) << problem;
    for (const auto& bad : config::InvalidDefaults(*keys)) ADD_FAILURE() << name << ": " << bad;
  }
}

// Bind-time behaviour of the postgres source; reading real tables is covered end to end in
// tests/e2e/test_postgres_source.py against a real PostgreSQL server.
class PostgresBindTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<Source>> Bind(const std::string& mode, const std::string& yaml,
                                       const std::string& connection = "") {
    request_.mode = *config::ParseLoadMode(mode, "the test job");
    BindContext bind{project_, "p", "j", connection, request_};
    return BindSource(PostgresSourceDescriptor(), bind, Options(yaml));
  }
  config::ProjectConfig project_;
  ReadRequest request_;
};

TEST_F(PostgresBindTest, FullModeReplacesAndIncrementalAppends) {
  auto full = Bind("full", "url: postgresql://u@127.0.0.1:1/db\ntable: public.orders\n", "registry");
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_TRUE((*full)->plan().snapshot);
  EXPECT_FALSE((*full)->plan().is_incremental);
  EXPECT_EQ((*full)->plan().origin, "registry");
  auto incremental = Bind("incremental", "url: postgresql://u@127.0.0.1:1/db\ntable: orders\ncursor: updated_at\n");
  ASSERT_TRUE(incremental.ok()) << incremental.status();
  EXPECT_FALSE((*incremental)->plan().snapshot);
  EXPECT_TRUE((*incremental)->plan().is_incremental);
  EXPECT_EQ((*incremental)->plan().origin, "postgres");
  EXPECT_NE((*incremental)->plan().description.find("public.orders"), std::string::npos);
}

TEST_F(PostgresBindTest, IncrementalNeedsACursorAndOtherModesAreRefused) {
  auto no_cursor = Bind("incremental", "url: postgresql://u@127.0.0.1:1/db\ntable: public.orders\n");
  ASSERT_FALSE(no_cursor.ok());
  EXPECT_NE(no_cursor.status().message().find("'cursor'"), std::string::npos) << no_cursor.status();
  EXPECT_NE(no_cursor.status().message().find("job 'j'"), std::string::npos) << no_cursor.status();
  EXPECT_NE(no_cursor.status().message().find("test.yaml:1"), std::string::npos) << no_cursor.status();
  auto cdc_query = Bind("cdc", "url: postgresql://u@127.0.0.1:1/db\nquery: SELECT 1\n");
  ASSERT_FALSE(cdc_query.ok());
  EXPECT_EQ(cdc_query.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(cdc_query.status().message().find("mode: cdc"), std::string::npos) << cdc_query.status();
  EXPECT_NE(cdc_query.status().message().find("not query:"), std::string::npos) << cdc_query.status();
  auto cdc = Bind("cdc", "url: postgresql://u@127.0.0.1:1/db\ntables: [public.orders, shop.customers]\n");
  ASSERT_TRUE(cdc.ok()) << cdc.status();
  EXPECT_TRUE((*cdc)->plan().is_incremental);
  EXPECT_NE((*cdc)->plan().description.find("shop.customers"), std::string::npos);
  auto twice = Bind("cdc", "url: postgresql://u@127.0.0.1:1/db\ntables: [public.orders, shop.orders]\n");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("would both land in table 'orders'"), std::string::npos) << twice.status();
  auto tables_elsewhere = Bind("full", "url: postgresql://u@127.0.0.1:1/db\ntables: [public.orders]\n");
  ASSERT_FALSE(tables_elsewhere.ok());
  EXPECT_NE(tables_elsewhere.status().message().find("tables: is for mode: cdc"), std::string::npos);
}

TEST_F(PostgresBindTest, CdcHeartbeatNeedsAStatementAndAPositiveInterval) {
  const std::string source = "url: postgresql://u@127.0.0.1:1/db\ntable: public.orders\n";
  request_.cdc = *Options("cdc:\n  heartbeat:\n    sql: UPDATE hb SET at = now()\n    every: 30s\n").Find("cdc");
  auto good = Bind("cdc", source);
  ASSERT_TRUE(good.ok()) << good.status();
  request_.cdc = *Options("cdc:\n  heartbeat:\n    every: 30s\n").Find("cdc");
  auto no_sql = Bind("cdc", source);
  ASSERT_FALSE(no_sql.ok());
  EXPECT_NE(no_sql.status().message().find("sql"), std::string::npos) << no_sql.status();
  request_.cdc = *Options("cdc:\n  heartbeat:\n    sql: UPDATE hb SET at = now()\n    evry: 30s\n").Find("cdc");
  auto typo = Bind("cdc", source);
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("every"), std::string::npos) << typo.status();
  request_.cdc = *Options("cdc:\n  heartbeat:\n    sql: UPDATE hb SET at = now()\n    every: 0s\n").Find("cdc");
  auto zero = Bind("cdc", source);
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.status().message().find("must be positive"), std::string::npos) << zero.status();
  request_.cdc = config::Value();
}

TEST_F(PostgresBindTest, ChangesNeedAPrimaryKeyAndAppendUnderIncremental) {
  auto no_key = Bind("changes", "url: postgresql://u@127.0.0.1:1/db\ntable: public.orders\n");
  ASSERT_FALSE(no_key.ok());
  EXPECT_NE(no_key.status().message().find("primary_key"), std::string::npos) << no_key.status();
  request_.primary_key = {"id"};
  auto changes = Bind("changes", "url: postgresql://u@127.0.0.1:1/db\ntable: public.orders\n");
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_FALSE((*changes)->plan().snapshot);
  EXPECT_TRUE((*changes)->plan().is_incremental);
}

TEST_F(PostgresBindTest, WindowNeedsItsKeysAndPartitioningIsChecked) {
  const std::string source = "url: postgresql://u@127.0.0.1:1/db\ntable: public.deposits\n";
  request_.window = Options("column: d\nstart: '2018-11-04'\nstop: '2018-11-05'\n");
  auto no_step = Bind("window", source);
  ASSERT_FALSE(no_step.ok());
  EXPECT_NE(no_step.status().message().find("step"), std::string::npos) << no_step.status();
  request_.window = Options("column: d\nstart: '2018-11-04'\nstop: '2018-11-05'\nstep: 1 day\n");
  request_.partitioning = Options("column: q\nlower_bound: 1\nupper_bound: 1000\nnum_partition: 10\n");
  auto typo = Bind("window", source);
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("did you mean 'num_partitions'"), std::string::npos) << typo.status();
  request_.partitioning = Options("column: q\nlower_bound: 5\nupper_bound: 1\nnum_partitions: 10\n");
  EXPECT_FALSE(Bind("window", source).ok());
  request_.partitioning = Options("column: q\nlower_bound: 1\nupper_bound: 1000\nnum_partitions: 10\n");
  auto window = Bind("window", source);
  ASSERT_TRUE(window.ok()) << window.status();
  EXPECT_TRUE((*window)->plan().is_incremental);
  EXPECT_FALSE((*window)->plan().snapshot);
}

TEST_F(PostgresBindTest, TableOrQueryExactlyOneAndOptionsChecked) {
  auto both = Bind("full", "url: postgresql://u@h/db\ntable: a.b\nquery: SELECT 1\n");
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.status().message().find("exactly one of table:"), std::string::npos) << both.status();
  EXPECT_FALSE(Bind("full", "url: postgresql://u@h/db\n").ok());
  auto bad_table = Bind("full", "url: postgresql://u@h/db\ntable: a.b.c\n");
  ASSERT_FALSE(bad_table.ok());
  EXPECT_NE(bad_table.status().message().find("schema.table"), std::string::npos);
  auto typo = Bind("full", "url: postgresql://u@h/db\ntable: a.b\nbatch_row: 5\n");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("batch_rows"), std::string::npos) << typo.status();
  EXPECT_FALSE(Bind("full", "url: postgresql://u@h/db\ntable: a.b\nbatch_rows: 0\n").ok());
  EXPECT_FALSE(Bind("full", "url: postgresql://u@h/db\ntable: a.b\nsslmode: sometimes\n").ok());
  EXPECT_FALSE(Bind("full", "table: a.b\n").ok());  // url is required
}

TEST_F(PostgresBindTest, ConnectionFailureNamesEndpointNotPassword) {
  // A port nothing listens on: bind the socket, note its port, close it.
  int port = 0;
  {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    ::close(fd);
  }
  std::string yaml = fmt::format(
      "url: postgresql://etl@127.0.0.1:{}/registry\npassword: \"${{env:TEST_PG_PASSWORD}}\"\ntable: t\n"
      "connect_timeout: 2s\n",
      port);
  auto source = Bind("full", yaml, "registry");
  ASSERT_TRUE(source.ok()) << source.status();
  ManualClock clock(TimePoint{});
  TempDir dir;
  RunContext run{clock, dir.path(), "run-1"};
  auto reader = (*source)->Open(Checkpoint{}, run);
  ASSERT_FALSE(reader.ok());
  std::string message = reader.status().message();
  EXPECT_NE(message.find(fmt::format("127.0.0.1:{}/registry", port)), std::string::npos) << message;
  EXPECT_NE(message.find("connection 'registry'"), std::string::npos) << message;
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  EXPECT_TRUE(reader.status().retryable()) << message;
}

}  // namespace
}  // namespace sluice::connectors
