#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "catalog/metadata_store.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"

namespace sluice::catalog::testing {

/// One MetadataStore implementation under test. The conformance suite opens stores only through
/// OpenMetadataStore(make_location(dir)), so a new backend needs nothing but a way to give each test a fresh,
/// empty catalog location (a file in `dir` for SQLite, a new database URL for PostgreSQL).
struct StoreBackend {
  std::string name;
  std::function<std::string(const std::filesystem::path& dir)> make_location;
};

inline void PrintTo(const StoreBackend& backend, std::ostream* os) { *os << backend.name; }

inline std::string BackendName(const ::testing::TestParamInfo<StoreBackend>& info) { return info.param.name; }

class MetadataStoreConformance : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sluice-catalog-test-" + RandomHex(8));
    std::filesystem::create_directories(dir_);
    location_ = GetParam().make_location(dir_);
    clock_ = std::make_shared<ManualClock>(kStart);
    store_ = Open();
    ASSERT_NE(store_, nullptr);
  }

  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  /// Another instance on the same catalog (as a second process would have).
  std::unique_ptr<MetadataStore> Open() {
    auto store = OpenMetadataStore(location_, clock_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  static TableName Table(const char* text) { return TableName::Parse(text).value(); }

  static DataFile File(std::string path, int64_t rows, int64_t bytes,
                       std::vector<std::pair<std::string, std::string>> partition_values = {}) {
    return DataFile{std::move(path), rows, bytes, std::move(partition_values), 0};
  }

  static Schema TwoColumns() { return Schema{{{"id", "BIGINT", false}, {"name", "VARCHAR", true}}}; }

  static TableChange Change(const char* table, WriteOperation operation, std::vector<DataFile> added) {
    TableChange change;
    change.table = Table(table);
    change.operation = operation;
    change.location = std::string("lake/") + table;
    change.source = "files: incoming/*.csv";
    change.schema = TwoColumns();
    change.added = std::move(added);
    return change;
  }

  static CommitRequest Request(std::vector<TableChange> changes) {
    CommitRequest request;
    request.run_id = RunId{"20261123T100000Z-abc123"};
    request.pipeline = "birds";
    request.job = "load";
    request.tables = std::move(changes);
    return request;
  }

  /// Commits and returns the new versions, failing the test on error.
  std::vector<int64_t> MustCommit(const CommitRequest& request) {
    auto result = store_->Commit(request);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->versions : std::vector<int64_t>{};
  }

  std::vector<std::string> Paths(const TableName& table, std::optional<int64_t> as_of = std::nullopt) {
    auto files = store_->ListFiles(table, as_of);
    EXPECT_TRUE(files.ok()) << files.status();
    std::vector<std::string> paths;
    if (files.ok()) {
      for (const auto& f : *files) paths.push_back(f.path);
    }
    return paths;
  }

  static inline const TimePoint kStart = FromUnixMicros(1'795'431'360'000'000);  // 2026-11-23T10:56:00Z

  std::filesystem::path dir_;
  std::string location_;
  std::shared_ptr<ManualClock> clock_;
  std::unique_ptr<MetadataStore> store_;
};

}  // namespace sluice::catalog::testing
