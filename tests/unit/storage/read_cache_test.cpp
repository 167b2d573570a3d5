// The query read-through cache over the S3 store on a real s3rver, and over the local store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "object_store_conformance.hpp"
#include "s3_test_support.hpp"
#include "storage/local_object_store.hpp"
#include "storage/read_cache.hpp"
#include "storage/s3/s3_object_store.hpp"

namespace sluice::storage::testing {
namespace {

namespace fs = std::filesystem;

class ReadCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(SharedS3Server().ok()) << SharedS3Server().error;
    scratch_ = MakeScratchFolder("readcache");
    auto store = s3::MakeS3ObjectStore(kTestBucket, "cache-" + std::to_string(getpid()), SharedS3Server().Options());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  void TearDown() override { fs::remove_all(scratch_); }

  fs::path scratch_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_F(ReadCacheTest, FetchesOnceKeepsFoldersAndRefetchesAReplacedObject) {
  ASSERT_TRUE(store_->Put("gold/t/country=DE/part-1.parquet", std::string(1000, 'a')).ok());
  ReadThroughCache cache(scratch_ / "cache", 1 << 20);
  auto first = cache.Fetch(*store_, "gold/t/country=DE/part-1.parquet");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(ReadLocalFile(*first), std::string(1000, 'a'));
  EXPECT_EQ(first->parent_path().filename(), "country=DE");  // hive partitions still come from the path
  EXPECT_EQ(cache.downloaded_bytes(), 1000u);
  auto again = cache.Fetch(*store_, "gold/t/country=DE/part-1.parquet");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);
  EXPECT_EQ(cache.downloaded_bytes(), 1000u);  // served from the cache

  ASSERT_TRUE(store_->Put("gold/t/country=DE/part-1.parquet", std::string(1000, 'b')).ok());
  auto replaced = cache.Fetch(*store_, "gold/t/country=DE/part-1.parquet");
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(ReadLocalFile(*replaced), std::string(1000, 'b'));
  EXPECT_EQ(cache.downloaded_bytes(), 2000u);

  EXPECT_EQ(cache.Fetch(*store_, "gold/t/missing.parquet").status().code(), StatusCode::kNotFound);
}

TEST_F(ReadCacheTest, EvictsLeastRecentlyUsedCopiesPastTheLimit) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store_->Put("f/" + std::to_string(i), std::string(1000, 'x')).ok());
  {
    ReadThroughCache earlier(scratch_ / "cache", 1 << 20);
    ASSERT_TRUE(earlier.Fetch(*store_, "f/0").ok());
    ASSERT_TRUE(earlier.Fetch(*store_, "f/1").ok());
  }
  ReadThroughCache cache(scratch_ / "cache", 2500);
  auto newest = cache.Fetch(*store_, "f/2");
  ASSERT_TRUE(newest.ok());
  uint64_t total = 0;
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(scratch_ / "cache")) {
    if (entry.is_regular_file()) {
      total += entry.file_size();
      ++files;
    }
  }
  EXPECT_LE(total, 2500u);
  EXPECT_EQ(files, 2);
  EXPECT_TRUE(fs::exists(*newest));
}

TEST(ReadCacheLocal, LocalStoresAreReadInPlace) {
  fs::path scratch = MakeScratchFolder("readcache-local");
  auto store = MakeLocalObjectStore(scratch / "lake");
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Put("a/b.parquet", "x").ok());
  ReadThroughCache cache(scratch / "cache", 1 << 20);
  auto path = cache.Fetch(**store, "a/b.parquet");
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(*path, *(*store)->LocalPath("a/b.parquet"));
  EXPECT_EQ(cache.downloaded_bytes(), 0u);
  fs::remove_all(scratch);
}

}  // namespace
}  // namespace sluice::storage::testing
