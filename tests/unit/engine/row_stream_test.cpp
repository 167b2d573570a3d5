#include "engine/row_stream.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

namespace sluice::engine {
namespace {

namespace fs = std::filesystem;

/// Rows first..last-1 as (id BIGINT, name VARCHAR, tags VARCHAR[], amount DECIMAL(12,2)); every
/// seventh name is NULL. Optionally fails after `fail_after` rows.
class CountingProducer final : public RowProducer {
 public:
  CountingProducer(int64_t first, int64_t last, int64_t fail_after = -1, std::set<std::thread::id>* threads = nullptr,
                   std::mutex* threads_mutex = nullptr)
      : next_(first), last_(last), fail_after_(fail_after), threads_(threads), threads_mutex_(threads_mutex) {}

  Result<bool> Fill(Appender& rows) override {
    if (threads_ != nullptr) {
      std::lock_guard<std::mutex> lock(*threads_mutex_);
      threads_->insert(std::this_thread::get_id());
    }
    while (rows.ChunkRoom() > 0 && next_ < last_) {
      if (fail_after_ >= 0 && produced_ == fail_after_) {
        return Status(StatusCode::kDataError, "source row " + std::to_string(next_) + " is malformed",
                      /*retryable=*/true);
      }
      rows.SetInt64(0, next_);
      if (next_ % 7 != 0) rows.SetVarchar(1, "name-" + std::to_string(next_));
      ListBuilder tags = rows.BeginList(2);
      tags.AddVarchar("t");
      if (next_ % 2 == 0) tags.AddNull();
      rows.SetDecimal(3, next_ * 100 + 5);
      SLUICE_TRY(rows.EndRow());
      ++next_;
      ++produced_;
    }
    return next_ < last_;
  }

 private:
  int64_t next_, last_, fail_after_, produced_ = 0;
  std::set<std::thread::id>* threads_;
  std::mutex* threads_mutex_;
};

std::vector<AppendColumn> Columns() {
  AppendColumn tags{"tags", ColumnKind::kList};
  tags.element.push_back(AppendColumn{"", ColumnKind::kVarchar});
  return {AppendColumn{"id", ColumnKind::kInt64}, AppendColumn{"name", ColumnKind::kVarchar}, tags,
          AppendColumn{"amount", ColumnKind::kDecimal, 12, 2}};
}

class RowStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DatabaseOptions options;
    options.threads = 2;
    auto opened = Database::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status();
    db_ = std::move(opened).value();
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok()) << conn.status();
    conn_ = std::move(conn).value();
    dir_ = fs::temp_directory_path() / ("sluice-row-stream-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string One(const std::string& sql) {
    auto result = conn_->Query(sql);
    EXPECT_TRUE(result.ok()) << result.status() << " for " << sql;
    if (!result.ok() || result->rows.empty() || result->rows[0].empty()) return "<none>";
    return result->rows[0][0].value_or("<NULL>");
  }

  std::unique_ptr<Database> db_;
  std::unique_ptr<Connection> conn_;
  fs::path dir_;
};

std::vector<std::unique_ptr<RowProducer>> TwoProducers(std::set<std::thread::id>* threads, std::mutex* threads_mutex) {
  std::vector<std::unique_ptr<RowProducer>> producers;
  producers.push_back(std::make_unique<CountingProducer>(0, 150'000, -1, threads, threads_mutex));
  producers.push_back(std::make_unique<CountingProducer>(150'000, 200'001, -1, threads, threads_mutex));
  return producers;
}

TEST_F(RowStreamTest, CopiesEveryRowOfEveryProducerToParquetInOnePass) {
  std::set<std::thread::id> threads;
  std::mutex threads_mutex;
  auto stream = RowStream::Create(*conn_, "streamed", Columns(), TwoProducers(&threads, &threads_mutex));
  ASSERT_TRUE(stream.ok()) << stream.status();

  // Binding (describing) the view reads nothing.
  auto described = conn_->Describe("SELECT * FROM streamed");
  ASSERT_TRUE(described.ok()) << described.status();
  ASSERT_EQ(described->size(), 4u);
  EXPECT_EQ((*described)[2].type, "VARCHAR[]");
  EXPECT_EQ((*described)[3].type, "DECIMAL(12,2)");
  EXPECT_EQ((*stream)->rows(), 0u);

  std::string file = (dir_ / "out.parquet").string();
  Status copied = conn_->Execute("COPY (SELECT * FROM streamed) TO '" + file + "' (FORMAT parquet)");
  ASSERT_TRUE(copied.ok()) << copied;
  EXPECT_TRUE((*stream)->finished());
  EXPECT_EQ((*stream)->rows(), 200'001u);
  EXPECT_TRUE((*stream)->error().ok());
  // An ordered single-file COPY runs on one thread, which reads the producers one after the other.
  EXPECT_EQ(threads.size(), 1u);

  std::string scan = "read_parquet('" + file + "')";
  EXPECT_EQ(One("SELECT count(*) FROM " + scan), "200001");
  EXPECT_EQ(One("SELECT count(DISTINCT id) FROM " + scan), "200001");
  EXPECT_EQ(One("SELECT sum(id) FROM " + scan), "20000100000");
  EXPECT_EQ(One("SELECT count(*) FROM " + scan + " WHERE name IS NULL"), "28572");
  EXPECT_EQ(One("SELECT name || '|' || tags::VARCHAR || '|' || amount::VARCHAR FROM " + scan + " WHERE id = 12"),
            "name-12|[t, NULL]|12.05");
  EXPECT_EQ(One("SELECT tags::VARCHAR FROM " + scan + " WHERE id = 199999"), "[t]");
}

TEST_F(RowStreamTest, AParallelCopyDrivesEachProducerOnItsOwnThread) {
  std::set<std::thread::id> threads;
  std::mutex threads_mutex;
  auto stream = RowStream::Create(*conn_, "parallel", Columns(), TwoProducers(&threads, &threads_mutex));
  ASSERT_TRUE(stream.ok()) << stream.status();
  // Unordered output (as the lake writer asks for) lets DuckDB run the scan on several threads.
  Status copied = conn_->Execute(
      "COPY (SELECT * FROM parallel) TO '" + dir_.string() +
      "' (FORMAT parquet, FILE_SIZE_BYTES 1000000000, FILENAME_PATTERN 'p-{i}', OVERWRITE_OR_IGNORE true)");
  ASSERT_TRUE(copied.ok()) << copied;
  EXPECT_EQ((*stream)->rows(), 200'001u);
  EXPECT_EQ(threads.size(), 2u);
  std::string scan = "read_parquet('" + dir_.string() + "/*.parquet')";
  EXPECT_EQ(One("SELECT count(DISTINCT id) FROM " + scan), "200001");
  EXPECT_EQ(One("SELECT sum(id) FROM " + scan), "20000100000");
}

TEST_F(RowStreamTest, ASecondScanFailsInsteadOfReturningNothing) {
  std::vector<std::unique_ptr<RowProducer>> producers;
  producers.push_back(std::make_unique<CountingProducer>(0, 10));
  auto stream = RowStream::Create(*conn_, "once", Columns(), std::move(producers));
  ASSERT_TRUE(stream.ok()) << stream.status();
  EXPECT_EQ(One("SELECT count(*) FROM once"), "10");
  auto again = conn_->Query("SELECT count(*) FROM once");
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("'once' were read already"), std::string::npos) << again.status();

  stream->reset();
  auto gone = conn_->Query("SELECT count(*) FROM once");
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.status().message().find("no longer exists"), std::string::npos) << gone.status();
}

TEST_F(RowStreamTest, AProducerErrorFailsTheQueryAndKeepsItsStatus) {
  std::vector<std::unique_ptr<RowProducer>> producers;
  producers.push_back(std::make_unique<CountingProducer>(0, 100'000, 5000));
  auto stream = RowStream::Create(*conn_, "failing", Columns(), std::move(producers));
  ASSERT_TRUE(stream.ok()) << stream.status();
  std::string file = (dir_ / "failed.parquet").string();
  Status copied = conn_->Execute("COPY (SELECT * FROM failing) TO '" + file + "' (FORMAT parquet)");
  ASSERT_FALSE(copied.ok());
  EXPECT_NE(copied.message().find("source row 5000 is malformed"), std::string::npos) << copied;
  Status original = (*stream)->error();
  EXPECT_EQ(original.code(), StatusCode::kDataError);
  EXPECT_TRUE(original.retryable());
  EXPECT_FALSE((*stream)->finished());
}

TEST_F(RowStreamTest, AnEmptyProducerGivesAnEmptyResultWithColumns) {
  std::vector<std::unique_ptr<RowProducer>> producers;
  producers.push_back(std::make_unique<CountingProducer>(0, 0));
  auto stream = RowStream::Create(*conn_, "empty", Columns(), std::move(producers));
  ASSERT_TRUE(stream.ok()) << stream.status();
  EXPECT_EQ(One("SELECT count(*) FROM empty"), "0");
  EXPECT_TRUE((*stream)->finished());
}

TEST_F(RowStreamTest, RejectsBadColumnSpecsBeforeAnyQuery) {
  std::vector<std::unique_ptr<RowProducer>> producers;
  producers.push_back(std::make_unique<CountingProducer>(0, 1));
  auto stream =
      RowStream::Create(*conn_, "bad", {AppendColumn{"d", ColumnKind::kDecimal, 40, 2}}, std::move(producers));
  ASSERT_FALSE(stream.ok());
  EXPECT_NE(stream.status().message().find("DECIMAL(40,2) is out of range"), std::string::npos) << stream.status();
}

}  // namespace
}  // namespace sluice::engine
