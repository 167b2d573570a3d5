#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <filesystem>

#include "common/strings.hpp"
#include "object_store_conformance.hpp"
#include "storage/local_object_store.hpp"

namespace sluice::storage::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> Entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

class LocalObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    scratch_ = MakeScratchFolder("local");
    root_ = scratch_ / "lake";
    auto made = MakeLocalObjectStore(root_);
    ASSERT_TRUE(made.ok()) << made.status();
    store_ = std::move(made).value();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(scratch_, ec);
  }

  std::vector<std::string> Keys(const std::string& prefix = "") {
    auto listed = store_->List(prefix);
    EXPECT_TRUE(listed.ok()) << listed.status();
    std::vector<std::string> keys;
    if (listed.ok()) {
      for (const auto& info : *listed) keys.push_back(info.key);
    }
    return keys;
  }

  fs::path scratch_;
  fs::path root_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_F(LocalObjectStoreTest, RootIsCreatedAndDescribedAsAbsoluteFileUri) {
  fs::path messy = scratch_ / "x" / ".." / "nested" / "lake" / "";
  auto store = MakeLocalObjectStore(messy);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE(fs::is_directory(scratch_ / "nested" / "lake"));
  EXPECT_EQ((*store)->Describe(), "file://" + (scratch_ / "nested" / "lake").string());
  EXPECT_EQ(store_->Describe(), "file://" + root_.string());
}

TEST_F(LocalObjectStoreTest, RelativeRootIsResolvedAgainstTheWorkingFolder) {
  fs::path relative = fs::relative(scratch_ / "rel-lake", fs::current_path());
  ASSERT_TRUE(relative.is_relative());
  auto store = MakeLocalObjectStore(relative);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->Describe(), "file://" + (scratch_ / "rel-lake").string());
  ASSERT_TRUE((*store)->Put("k", "v").ok());
  EXPECT_TRUE(fs::exists(scratch_ / "rel-lake" / "k"));
}

TEST_F(LocalObjectStoreTest, RootThatIsAFileIsRejected) {
  WriteLocalFile(scratch_ / "file", "x");
  auto store = MakeLocalObjectStore(scratch_ / "file");
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr((scratch_ / "file").string()));
  EXPECT_EQ(MakeLocalObjectStore("").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(LocalObjectStoreTest, ObjectsArePlainFilesUnderTheRoot) {
  ASSERT_TRUE(store_->Put("raw/files/t/part-1.parquet", "parquet bytes").ok());
  EXPECT_EQ(ReadLocalFile(root_ / "raw" / "files" / "t" / "part-1.parquet"), "parquet bytes");
  EXPECT_EQ(store_->LocalPath("raw/files/t/part-1.parquet"), root_ / "raw/files/t/part-1.parquet");
  // Files that another writer (DuckDB) put into the lake folder are objects too.
  WriteLocalFile(root_ / "raw" / "files" / "t" / "part-2.parquet", "from duckdb");
  EXPECT_THAT(Keys("raw/"), ElementsAre("raw/files/t/part-1.parquet", "raw/files/t/part-2.parquet"));
}

TEST_F(LocalObjectStoreTest, UnfinishedWriteIsAHiddenTempFileNextToTheTarget) {
  auto writer = store_->OpenWrite("a/b/obj");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write("data").ok());
  auto entries = Entries(root_ / "a" / "b");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_TRUE(StartsWith(entries[0], "._tmp.")) << entries[0];
  EXPECT_THAT(Keys(), IsEmpty());
  ASSERT_TRUE((*writer)->Finish().ok());
  EXPECT_THAT(Entries(root_ / "a" / "b"), ElementsAre("obj"));
  // Temp files left by a crashed process are hidden as well.
  WriteLocalFile(root_ / "a" / "._tmp.deadbeef", "stale");
  EXPECT_THAT(Keys(), ElementsAre("a/b/obj"));
}

TEST_F(LocalObjectStoreTest, DeleteRemovesEmptyFoldersButNeverTheRoot) {
  ASSERT_TRUE(store_->Put("a/b/c/obj", "1").ok());
  ASSERT_TRUE(store_->Put("a/keep", "2").ok());
  ASSERT_TRUE(store_->Delete("a/b/c/obj").ok());
  EXPECT_FALSE(fs::exists(root_ / "a" / "b"));
  EXPECT_TRUE(fs::exists(root_ / "a" / "keep"));
  ASSERT_TRUE(store_->Delete("a/keep").ok());
  EXPECT_FALSE(fs::exists(root_ / "a"));
  EXPECT_TRUE(fs::is_directory(root_));
  EXPECT_THAT(Entries(root_), IsEmpty());
}

TEST_F(LocalObjectStoreTest, AbortRemovesTheFoldersItCreated) {
  ASSERT_TRUE(store_->Put("x/other", "1").ok());
  {
    auto writer = store_->OpenWrite("x/y/z/obj");
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write("data").ok());
  }
  EXPECT_THAT(Entries(root_ / "x"), ElementsAre("other"));
}

TEST_F(LocalObjectStoreTest, EtagIsSizeAndModificationTimeInNanoseconds) {
  ASSERT_TRUE(store_->Put("e/obj", "123456").ok());
  struct stat st {};
  ASSERT_EQ(::stat((root_ / "e" / "obj").c_str(), &st), 0);
  uint64_t ns = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ULL + static_cast<uint64_t>(st.st_mtim.tv_nsec);
  auto info = store_->Stat("e/obj");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->etag, fmt::format("6-{}", ns));
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::nanoseconds>(info->modified.time_since_epoch()).count(),
            static_cast<int64_t>(ns));
}

TEST_F(LocalObjectStoreTest, ConsumeOnTheSameFilesystemMovesTheFile) {
  fs::path local = scratch_ / "staging" / "part.parquet";
  WriteLocalFile(local, "moved, not copied");
  struct stat before {};
  ASSERT_EQ(::stat(local.c_str(), &before), 0);
  ASSERT_TRUE(store_->PutFile("t/part.parquet", local, true).ok());
  struct stat after {};
  ASSERT_EQ(::stat((root_ / "t" / "part.parquet").c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);
  EXPECT_FALSE(fs::exists(local));
}

TEST_F(LocalObjectStoreTest, ConsumeAcrossFilesystemsFallsBackToCopy) {
  fs::path shm = "/dev/shm";
  struct stat shm_st {};
  struct stat root_st {};
  if (::stat(shm.c_str(), &shm_st) != 0 || ::stat(root_.c_str(), &root_st) != 0 || shm_st.st_dev == root_st.st_dev) {
    GTEST_SKIP() << "needs /dev/shm on a filesystem other than " << root_;
  }
  fs::path local = shm / fmt::format("sluice-storage-test-{}", ::getpid());
  std::string data(3 * 1024 * 1024, 'q');
  WriteLocalFile(local, data);
  Status st = store_->PutFile("t/copied.parquet", local, true);
  bool local_left = fs::exists(local);
  std::error_code ec;
  fs::remove(local, ec);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_FALSE(local_left);
  EXPECT_EQ(ReadLocalFile(root_ / "t" / "copied.parquet"), data);
}

TEST_F(LocalObjectStoreTest, ObjectAndFolderOfTheSameNameConflict) {
  ASSERT_TRUE(store_->Put("a", "object").ok());
  Status st = store_->Put("a/b", "x");
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(st.message(), HasSubstr("'a'"));

  ASSERT_TRUE(store_->Put("c/d", "x").ok());
  st = store_->Put("c", "object");
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(st.message(), HasSubstr("'c'"));

  fs::path local = scratch_ / "f";
  WriteLocalFile(local, "x");
  st = store_->PutFile("c", local, true);
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(fs::exists(local)) << "a failed consume must leave the local file";
  EXPECT_THAT(Keys(), ElementsAre("a", "c/d"));
}

TEST_F(LocalObjectStoreTest, OverlongNameSegmentIsInvalid) {
  std::string key = "t/" + std::string(300, 'n');
  Status st = store_->Put(key, "x");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("255"));
}

TEST_F(LocalObjectStoreTest, FailedWriteNeverPublishesATruncatedObject) {
  // RLIMIT_FSIZE makes write() fail with EFBIG past 1 MiB, standing in for a full disk.
  struct rlimit old_limit {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old_limit;
  small.rlim_cur = 1024 * 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);

  auto writer = store_->OpenWrite("big/obj");
  Status failed;
  if (writer.ok()) {
    std::string chunk(300 * 1024, 'x');
    for (int i = 0; i < 8 && failed.ok(); ++i) failed = (*writer)->Write(chunk);
  }
  Status finish = writer.ok() ? (*writer)->Finish() : Status::OK();
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  ::signal(SIGXFSZ, old_handler);

  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.code(), StatusCode::kIoError);
  EXPECT_THAT(failed.message(), HasSubstr("._tmp."));
  EXPECT_THAT(failed.message(), HasSubstr("big/obj"));
  EXPECT_EQ(finish.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(finish.message(), HasSubstr("earlier write failed"));
  EXPECT_EQ(store_->Stat("big/obj").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(root_ / "big"));
}

TEST_F(LocalObjectStoreTest, SymlinkLoopDoesNotHangList) {
  ASSERT_TRUE(store_->Put("loop/file", "x").ok());
  fs::create_directory_symlink(root_ / "loop", root_ / "loop" / "again");
  auto listed = store_->List("loop/");
  ASSERT_TRUE(listed.ok()) << listed.status();
  std::vector<std::string> keys;
  for (const auto& info : *listed) keys.push_back(info.key);
  EXPECT_THAT(keys, ::testing::Contains("loop/file"));
  EXPECT_THAT(keys, ::testing::Contains("loop/again/file"));
  EXPECT_THAT(keys, ::testing::Contains("loop/again/again/file"));
  for (const auto& key : keys) EXPECT_LE(key.size(), kMaxKeyBytes);
}

TEST(OpenObjectStoreTest, S3WithoutCredentialsSaysWhereItLooked) {
  auto store = OpenObjectStore("s3://acme-lake/prod", s3::S3Options(),
                               [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(store.status().message(), HasSubstr("s3://acme-lake/prod"));
  EXPECT_THAT(store.status().message(), HasSubstr("AWS_ACCESS_KEY_ID"));
  EXPECT_THAT(OpenObjectStore("s3:///x").status().message(), HasSubstr("names no bucket"));
}

TEST(OpenObjectStoreTest, LocalPathsAndFileUris) {
  fs::path scratch = MakeScratchFolder("open");
  auto plain = OpenObjectStore((scratch / "a").string());
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ((*plain)->Describe(), "file://" + (scratch / "a").string());

  auto uri = OpenObjectStore("file://" + (scratch / "b").string());
  ASSERT_TRUE(uri.ok()) << uri.status();
  EXPECT_EQ((*uri)->Describe(), "file://" + (scratch / "b").string());
  EXPECT_TRUE(fs::is_directory(scratch / "b"));

  // Describe() output opens the same store again.
  auto again = OpenObjectStore((*uri)->Describe());
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE((*uri)->Put("k", "v").ok());
  EXPECT_EQ((*again)->Get("k").ValueOr(""), "v");

  auto localhost = OpenObjectStore("file://localhost" + (scratch / "c").string());
  ASSERT_TRUE(localhost.ok()) << localhost.status();
  EXPECT_EQ((*localhost)->Describe(), "file://" + (scratch / "c").string());

  EXPECT_EQ(OpenObjectStore("file://otherhost/x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenObjectStore("gs://bucket/x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(OpenObjectStore("gs://bucket/x").status().message(), HasSubstr("gs"));
  EXPECT_EQ(OpenObjectStore("").status().code(), StatusCode::kInvalidArgument);
  std::error_code ec;
  fs::remove_all(scratch, ec);
}

}  // namespace
}  // namespace sluice::storage::testing
