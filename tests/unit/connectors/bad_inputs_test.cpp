// Inputs that DuckDB's readers refuse or crash on, handled by the files source before DuckDB
// sees them: CSV files mixing CRLF and LF line endings, JSON nested absurdly deep.

#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>

#include "common/clock.hpp"
#include "config/project.hpp"
#include "config/value.hpp"
#include "connectors/source.hpp"
#include "connectors/sources/files/files_source.hpp"
#include "connectors/sources/files/text_scan.hpp"
#include "engine/engine.hpp"

namespace sluice::connectors {
namespace {
namespace fs = std::filesystem;

class BadInputsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sluice-bad-inputs-XXXXXX";
    root_ = ::mkdtemp(pattern);
    auto db = engine::Database::Open({});
    ASSERT_TRUE(db.ok());
    db_ = std::move(db).value();
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(conn).value();
    project_.root = root_;
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path Write(const std::string& rel, const std::string& bytes) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel, std::ios::binary) << bytes;
    return root_ / rel;
  }
  fs::path WriteGzip(const std::string& rel, const std::string& bytes) {
    fs::create_directories((root_ / rel).parent_path());
    gzFile out = gzopen((root_ / rel).c_str(), "wb");
    EXPECT_EQ(gzwrite(out, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
    gzclose(out);
    return root_ / rel;
  }

  /// Opens a files source over `yaml` and reads it into the view "src".
  Status Read(const std::string& yaml) {
    config::ParseOptions parse;
    SLUICE_ASSIGN_OR_RETURN(auto options, config::ParseYaml(yaml, "test.yaml", parse));
    BindContext bind{project_, "p", "j", ""};
    SLUICE_ASSIGN_OR_RETURN(source_, BindSource(FilesSourceDescriptor(), bind, options));
    fs::create_directories(root_ / "work");
    SLUICE_ASSIGN_OR_RETURN(reader_, source_->Open({}, RunContext{clock_, root_ / "work", "r1"}));
    return reader_->Read(*conn_, "src").status();
  }

  fs::path root_;
  SystemClock clock_;
  config::ProjectConfig project_;
  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::Connection> conn_;
  std::unique_ptr<Source> source_;
  std::unique_ptr<SourceReader> reader_;
};

// Two exports concatenated: one from Windows (CRLF), one from Linux (LF).
const std::string kMixedCsv =
    "id,name,amount\r\n1,a,1.5\r\n2,\"two\r\nlines\",2.5\r\n3,c,3.5\n4,d,4.5\n5,\"e, quoted\",5.5\n";

TEST_F(BadInputsTest, CsvWithMixedLineEndingsLoadsEveryRow) {
  Write("in/mixed.csv", kMixedCsv);
  Status st = Read("path: in/*.csv\n");
  ASSERT_TRUE(st.ok()) << st;  // DuckDB's sniffer alone refuses the file
  auto rows = conn_->Query("SELECT id, name, amount::VARCHAR AS amount, _source_file FROM src ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows.size(), 5u);
  EXPECT_EQ(rows->Get(0, "amount"), "1.5");         // no '\r' left on the last column
  EXPECT_EQ(rows->Get(1, "name"), "two\r\nlines");  // quoted contents are data: unchanged
  EXPECT_EQ(rows->Get(2, "amount"), "3.5");
  EXPECT_EQ(rows->Get(4, "name"), "e, quoted");
  EXPECT_EQ(rows->Get(4, "_source_file"), "in/mixed.csv");  // the name users know, not the copy's
}

TEST_F(BadInputsTest, GzippedCsvWithMixedLineEndingsLoadsAndRejectsKeepTheirLines) {
  WriteGzip("in/mixed.csv.gz", "id,amount\r\n1,1.5\r\n2,oops\n3,3.5\n");
  Status st = Read("path: in/*.csv.gz\ncolumns: {id: BIGINT, amount: DOUBLE}\n");
  ASSERT_TRUE(st.ok()) << st;
  // Both columns: DuckDB casts (and rejects) only the columns a query reads.
  auto rows = conn_->Query("SELECT id, amount FROM src ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows.size(), 2u);
  EXPECT_EQ(rows->Get(1, "amount"), "3.5");
  auto rejects = conn_->Query(fmt::format("SELECT * FROM {}", reader_->rejecting()->RejectsRelation()));
  ASSERT_TRUE(rejects.ok()) << rejects.status();
  ASSERT_EQ(rejects->rows.size(), 1u);
  EXPECT_EQ(rejects->Get(0, "_line"), "3");
  EXPECT_EQ(rejects->Get(0, "_source_file"), "in/mixed.csv.gz");
}

TEST_F(BadInputsTest, LineEndingsAreCountedAndRewrittenAcrossChunkBoundaries) {
  // A CRLF split across the 1 MiB read chunks, and a lone CR that is data.
  std::string text = "h\r\n" + std::string((1u << 20) - 4, 'x') + "\r\nlast\rcr\nend\n";
  auto file = Write("big.csv", text);
  auto endings = ScanLineEndings(file);
  ASSERT_TRUE(endings.ok()) << endings.status();
  EXPECT_EQ(endings->crlf, 2u);
  EXPECT_EQ(endings->lf, 2u);
  ASSERT_TRUE(RewriteWithLfEndings(file, root_ / "out.csv", '"', '"').ok());
  std::ifstream in(root_ / "out.csv", std::ios::binary);
  std::string rewritten((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rewritten, "h\n" + std::string((1u << 20) - 4, 'x') + "\nlast\rcr\nend\n");
}

TEST_F(BadInputsTest, JsonNested100000DeepIsRefusedNotACrash) {
  // DuckDB's JSON reader recursed once per level and killed the process (SIGSEGV).
  Write("in/deep.json", "{\"a\": " + std::string(100'000, '[') + std::string(100'000, ']') + "}\n");
  Status st = Read("path: in/*.json\n");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kDataError);
  EXPECT_NE(st.message().find("in/deep.json nests JSON deeper than 512 levels (at byte 517)"), std::string::npos) << st;
}

TEST_F(BadInputsTest, GzippedDeepJsonLinesAreRefusedAndModestNestingLoads) {
  WriteGzip("deep/x.jsonl.gz", "{\"a\": 1}\n{\"b\": " + std::string(600, '{') + std::string(600, '}') + "}\n");
  Status st = Read("path: deep/*.jsonl.gz\n");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("deep/x.jsonl.gz nests JSON deeper than 512 levels"), std::string::npos) << st;

  Write("ok/x.json", "{\"a\": " + std::string(100, '[') + "1" + std::string(100, ']') + ", \"s\": \"[[[[\"}\n");
  st = Read("path: ok/*.json\n");
  ASSERT_TRUE(st.ok()) << st;
  auto rows = conn_->Query("SELECT s FROM src");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->Get(0, "s"), "[[[[");
}

}  // namespace
}  // namespace sluice::connectors
