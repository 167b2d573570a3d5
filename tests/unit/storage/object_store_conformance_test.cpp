#include "object_store_conformance.hpp"

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "common/ids.hpp"
#include "common/strings.hpp"
#include "storage/local_object_store.hpp"

namespace sluice::storage::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

/// Bytes that trip text-oriented code: NULs, high bytes, newlines; deterministic per seed.
std::string BinaryData(size_t size, unsigned seed) {
  std::string out(size, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < size; ++i) {
    x = x * 1664525u + 1013904223u;
    out[i] = static_cast<char>(x >> 24);
  }
  return out;
}

}  // namespace

fs::path MakeScratchFolder(const std::string& label) {
  fs::path dir = fs::temp_directory_path() / fmt::format("sluice-storage-{}-{}", label, RandomHex(6));
  fs::create_directories(dir);
  return dir;
}

void WriteLocalFile(const fs::path& path, const std::string& data) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string ReadLocalFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void ObjectStoreConformance::SetUp() {
  scratch_ = MakeScratchFolder(GetParam().name);
  auto made = GetParam().make(scratch_);
  ASSERT_TRUE(made.ok()) << made.status();
  store_ = std::move(made).value();
  auto existing = store_->List("");
  ASSERT_TRUE(existing.ok()) << existing.status();
  ASSERT_THAT(*existing, IsEmpty()) << "the factory must return an empty store";
}

void ObjectStoreConformance::TearDown() {
  store_.reset();
  std::error_code ec;
  fs::remove_all(scratch_, ec);
}

std::string ObjectStoreConformance::Drain(ObjectReader& reader, size_t chunk) {
  std::string out;
  std::string buffer(chunk, '\0');
  while (true) {
    auto got = reader.Read(buffer.data(), buffer.size());
    EXPECT_TRUE(got.ok()) << got.status();
    if (!got.ok() || *got == 0) break;
    out.append(buffer.data(), *got);
  }
  return out;
}

std::vector<std::string> ObjectStoreConformance::ListKeys(const std::string& prefix) {
  auto listed = store_->List(prefix);
  EXPECT_TRUE(listed.ok()) << listed.status();
  std::vector<std::string> keys;
  if (listed.ok()) {
    for (const auto& info : *listed) keys.push_back(info.key);
  }
  return keys;
}

TEST_P(ObjectStoreConformance, DescribeNamesTheStore) {
  std::string described = store().Describe();
  EXPECT_TRUE(StartsWith(described, "file://") || StartsWith(described, "s3://")) << described;
}

TEST_P(ObjectStoreConformance, PutThenGetRoundTripsBytes) {
  std::string data = BinaryData(10000, 1);
  data[5] = '\0';
  ASSERT_TRUE(store().Put("raw/files/orders/part-1.parquet", data).ok());
  auto got = store().Get("raw/files/orders/part-1.parquet");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, data);
}

TEST_P(ObjectStoreConformance, EmptyObjectExists) {
  ASSERT_TRUE(store().Put("empty", "").ok());
  auto got = store().Get("empty");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "");
  auto info = store().Stat("empty");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->size, 0u);
  EXPECT_THAT(ListKeys(""), ElementsAre("empty"));
}

TEST_P(ObjectStoreConformance, PutOverwritesWholeObject) {
  ASSERT_TRUE(store().Put("a/b.txt", "a much longer first version").ok());
  auto first = store().Stat("a/b.txt");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(store().Put("a/b.txt", "short").ok());
  auto got = store().Get("a/b.txt");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "short");
  auto second = store().Stat("a/b.txt");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->size, 5u);
  EXPECT_NE(first->etag, second->etag);
}

TEST_P(ObjectStoreConformance, MissingObjectIsNotFound) {
  auto got = store().Get("no/such/object");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(got.status().message(), HasSubstr("no/such/object"));

  auto stat = store().Stat("no/such/object");
  ASSERT_FALSE(stat.ok());
  EXPECT_EQ(stat.status().code(), StatusCode::kNotFound);

  auto reader = store().OpenRead("no/such/object");
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), StatusCode::kNotFound);

  Status to_file = store().GetToFile("no/such/object", scratch() / "out.bin");
  EXPECT_EQ(to_file.code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(scratch() / "out.bin"));
}

TEST_P(ObjectStoreConformance, FolderOfObjectsIsNotAnObject) {
  ASSERT_TRUE(store().Put("dir/child", "x").ok());
  EXPECT_EQ(store().Stat("dir").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store().Get("dir").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store().Delete("dir").ok());
  EXPECT_THAT(ListKeys(""), ElementsAre("dir/child"));
}

TEST_P(ObjectStoreConformance, StreamingWriteThenRangedReads) {
  // Larger than any internal buffer, written in uneven pieces.
  std::string data = BinaryData(3 * 1024 * 1024 + 123, 2);
  auto writer = store().OpenWrite("big/object.bin");
  ASSERT_TRUE(writer.ok()) << writer.status();
  size_t pos = 0;
  size_t piece = 1;
  while (pos < data.size()) {
    size_t n = std::min(piece, data.size() - pos);
    ASSERT_TRUE((*writer)->Write(std::string_view(data).substr(pos, n)).ok());
    pos += n;
    piece = piece * 3 + 17;
  }
  ASSERT_TRUE((*writer)->Finish().ok());

  auto whole = store().OpenRead("big/object.bin");
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(Drain(**whole, 65536), data);

  auto tail = store().OpenRead("big/object.bin", 1000000);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(Drain(**tail, 4096), data.substr(1000000));

  auto range = store().OpenRead("big/object.bin", 12345, 100);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(Drain(**range), data.substr(12345, 100));

  auto past_end = store().OpenRead("big/object.bin", data.size() - 10, 1000);
  ASSERT_TRUE(past_end.ok());
  EXPECT_EQ(Drain(**past_end), data.substr(data.size() - 10));

  auto zero = store().OpenRead("big/object.bin", 5, 0);
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(Drain(**zero), "");

  auto at_end = store().OpenRead("big/object.bin", data.size());
  ASSERT_TRUE(at_end.ok());
  EXPECT_EQ(Drain(**at_end), "");

  auto beyond = store().OpenRead("big/object.bin", data.size() + 1);
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(beyond.status().message(), HasSubstr("big/object.bin"));
}

TEST_P(ObjectStoreConformance, ReaderKeepsItsSnapshotWhenObjectIsReplaced) {
  ASSERT_TRUE(store().Put("snap", "old contents").ok());
  auto reader = store().OpenRead("snap");
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(store().Put("snap", "new").ok());
  EXPECT_EQ(Drain(**reader), "old contents");
}

TEST_P(ObjectStoreConformance, NothingVisibleBeforeFinish) {
  auto writer = store().OpenWrite("staged/file.parquet");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write("partial").ok());
  EXPECT_EQ(store().Stat("staged/file.parquet").status().code(), StatusCode::kNotFound);
  EXPECT_THAT(ListKeys(""), IsEmpty());
  EXPECT_THAT(ListKeys("staged/"), IsEmpty());
  ASSERT_TRUE((*writer)->Write(" and the rest").ok());
  ASSERT_TRUE((*writer)->Finish().ok());
  EXPECT_THAT(ListKeys(""), ElementsAre("staged/file.parquet"));
  EXPECT_EQ(store().Get("staged/file.parquet").ValueOr(""), "partial and the rest");
}

TEST_P(ObjectStoreConformance, AbortLeavesNothing) {
  auto writer = store().OpenWrite("aborted/deep/file");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write(BinaryData(1000, 3)).ok());
  (*writer)->Abort();
  (*writer)->Abort();  // idempotent
  EXPECT_THAT(ListKeys(""), IsEmpty());
  EXPECT_EQ(store().Stat("aborted/deep/file").status().code(), StatusCode::kNotFound);
  EXPECT_EQ((*writer)->Write("more").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*writer)->Finish().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(ListKeys(""), IsEmpty());
}

TEST_P(ObjectStoreConformance, AbortKeepsThePreviousVersion) {
  ASSERT_TRUE(store().Put("kept", "version 1").ok());
  auto writer = store().OpenWrite("kept");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write("version 2").ok());
  (*writer)->Abort();
  EXPECT_EQ(store().Get("kept").ValueOr(""), "version 1");
  EXPECT_THAT(ListKeys(""), ElementsAre("kept"));
}

TEST_P(ObjectStoreConformance, DestroyedUnfinishedWriterLeavesNothing) {
  {
    auto writer = store().OpenWrite("dropped/file");
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write(BinaryData(500000, 4)).ok());
  }
  EXPECT_THAT(ListKeys(""), IsEmpty());
  EXPECT_EQ(store().Stat("dropped/file").status().code(), StatusCode::kNotFound);
}

TEST_P(ObjectStoreConformance, FinishedWriterRefusesMore) {
  auto writer = store().OpenWrite("done");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write("x").ok());
  ASSERT_TRUE((*writer)->Finish().ok());
  EXPECT_EQ((*writer)->Write("y").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*writer)->Finish().code(), StatusCode::kInvalidArgument);
  (*writer)->Abort();  // after Finish: nothing to undo
  EXPECT_EQ(store().Get("done").ValueOr(""), "x");
}

TEST_P(ObjectStoreConformance, ListIsRecursiveSortedAndFiltersByPrefix) {
  // Written out of order; "a-c" sorts before "a/..." ('-' < '/') although a walk would see "a" first.
  for (const char* key :
       {"raw/registry/t/z.parquet", "a/b/c", "a-c", "raw/regions/x", "raw/registry/t/a.parquet", "a/b0", "b"}) {
    ASSERT_TRUE(store().Put(key, key).ok()) << key;
  }
  EXPECT_THAT(ListKeys(""), ElementsAre("a-c", "a/b/c", "a/b0", "b", "raw/regions/x", "raw/registry/t/a.parquet",
                                        "raw/registry/t/z.parquet"));
  EXPECT_THAT(ListKeys("raw/"), ElementsAre("raw/regions/x", "raw/registry/t/a.parquet", "raw/registry/t/z.parquet"));
  EXPECT_THAT(ListKeys("raw/reg"),
              ElementsAre("raw/regions/x", "raw/registry/t/a.parquet", "raw/registry/t/z.parquet"));
  EXPECT_THAT(ListKeys("raw/registry"), ElementsAre("raw/registry/t/a.parquet", "raw/registry/t/z.parquet"));
  EXPECT_THAT(ListKeys("a"), ElementsAre("a-c", "a/b/c", "a/b0"));
  EXPECT_THAT(ListKeys("a/b"), ElementsAre("a/b/c", "a/b0"));
  EXPECT_THAT(ListKeys("a/b/"), ElementsAre("a/b/c"));
  EXPECT_THAT(ListKeys("a/b/c"), ElementsAre("a/b/c"));
  EXPECT_THAT(ListKeys("missing/"), IsEmpty());
  EXPECT_THAT(ListKeys("raw/registry/t/a.parquet/"), IsEmpty());

  auto infos = store().List("raw/registry/");
  ASSERT_TRUE(infos.ok());
  ASSERT_EQ(infos->size(), 2u);
  EXPECT_EQ((*infos)[0].size, std::string("raw/registry/t/a.parquet").size());
  EXPECT_FALSE((*infos)[0].etag.empty());
}

TEST_P(ObjectStoreConformance, ListNeverShowsUnfinishedWrites) {
  ASSERT_TRUE(store().Put("t/done", "1").ok());
  auto writer = store().OpenWrite("t/pending");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write("2").ok());
  auto other = store().OpenWrite("t/done");
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->Write("3").ok());
  EXPECT_THAT(ListKeys(""), ElementsAre("t/done"));
  EXPECT_THAT(ListKeys("t/"), ElementsAre("t/done"));
  ASSERT_TRUE((*writer)->Finish().ok());
  (*other)->Abort();
  EXPECT_THAT(ListKeys("t/"), ElementsAre("t/done", "t/pending"));
}

TEST_P(ObjectStoreConformance, StatReportsSizeTimeAndEtag) {
  auto before = std::chrono::system_clock::now() - std::chrono::minutes(5);
  ASSERT_TRUE(store().Put("s/obj", "12345").ok());
  auto info = store().Stat("s/obj");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->key, "s/obj");
  EXPECT_EQ(info->size, 5u);
  EXPECT_GT(info->modified, before);
  EXPECT_LT(info->modified, std::chrono::system_clock::now() + std::chrono::minutes(5));
  EXPECT_FALSE(info->etag.empty());
  auto listed = store().List("s/");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].etag, info->etag);
  EXPECT_EQ((*listed)[0].size, info->size);
}

TEST_P(ObjectStoreConformance, DeleteRemovesOnlyThatObject) {
  ASSERT_TRUE(store().Put("d/x/1", "1").ok());
  ASSERT_TRUE(store().Put("d/x/2", "2").ok());
  ASSERT_TRUE(store().Delete("d/x/1").ok());
  EXPECT_EQ(store().Stat("d/x/1").status().code(), StatusCode::kNotFound);
  EXPECT_THAT(ListKeys(""), ElementsAre("d/x/2"));
  ASSERT_TRUE(store().Delete("d/x/2").ok());
  EXPECT_THAT(ListKeys(""), IsEmpty());
  // A key can be reused after its folder was emptied.
  ASSERT_TRUE(store().Put("d/x/1", "again").ok());
  EXPECT_EQ(store().Get("d/x/1").ValueOr(""), "again");
}

TEST_P(ObjectStoreConformance, DeleteMissingIsOk) {
  EXPECT_TRUE(store().Delete("never/existed").ok());
  EXPECT_TRUE(store().Delete("x").ok());
}

TEST_P(ObjectStoreConformance, DeleteManyDeletesListedKeysAndToleratesMissing) {
  for (const char* key : {"m/1", "m/2", "m/3", "n/1"}) ASSERT_TRUE(store().Put(key, "v").ok());
  ASSERT_TRUE(store().DeleteMany({"m/1", "m/3", "m/does-not-exist", "n/1"}).ok());
  EXPECT_THAT(ListKeys(""), ElementsAre("m/2"));
  EXPECT_TRUE(store().DeleteMany({}).ok());
}

TEST_P(ObjectStoreConformance, DeleteManyWithAnInvalidKeyDeletesNothing) {
  ASSERT_TRUE(store().Put("keep/1", "v").ok());
  Status st = store().DeleteMany({"keep/1", "../escape"});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("../escape"));
  EXPECT_THAT(ListKeys(""), ElementsAre("keep/1"));
}

TEST_P(ObjectStoreConformance, InvalidKeysAreRejectedByEveryOperation) {
  WriteLocalFile(scratch() / "local.bin", "data");
  const std::vector<std::string> bad = {"",
                                        "/abs",
                                        "a/../b",
                                        "..",
                                        "../x",
                                        "a/..",
                                        "./a",
                                        "a/./b",
                                        "a//b",
                                        "a/",
                                        "x/._tmp.1",
                                        std::string("a\0b", 3),
                                        std::string(kMaxKeyBytes + 1, 'k')};
  for (const auto& key : bad) {
    SCOPED_TRACE(::testing::Message() << "key '" << key << "'");
    auto expect_invalid = [&](const Status& st) {
      EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st;
      if (!key.empty() && key.size() < 100 && key.find('\0') == std::string::npos) {
        EXPECT_THAT(st.message(), HasSubstr("'" + key + "'"));
      }
    };
    expect_invalid(store().Put(key, "x"));
    expect_invalid(store().PutFile(key, scratch() / "local.bin", false));
    expect_invalid(store().Get(key).status());
    expect_invalid(store().GetToFile(key, scratch() / "out.bin"));
    expect_invalid(store().OpenRead(key).status());
    expect_invalid(store().OpenWrite(key).status());
    expect_invalid(store().Stat(key).status());
    expect_invalid(store().Delete(key));
    expect_invalid(store().DeleteMany({key}));
    EXPECT_FALSE(store().LocalPath(key).has_value());
  }
  EXPECT_TRUE(fs::exists(scratch() / "local.bin"));
  EXPECT_THAT(ListKeys(""), IsEmpty());
  for (const std::string prefix : {"/abs", "../", "a/../", "a//"}) {
    EXPECT_EQ(store().List(prefix).status().code(), StatusCode::kInvalidArgument) << prefix;
  }
}

TEST_P(ObjectStoreConformance, UnusualButValidKeysWork) {
  for (const std::string key : {"country=DE/city=K%C3%B6ln/part-0.parquet", "with space/and,comma", "ünïcødé/ä",
                                "_staging/run/.hidden", "a..b/c.."}) {
    SCOPED_TRACE(key);
    ASSERT_TRUE(store().Put(key, key).ok());
    EXPECT_EQ(store().Get(key).ValueOr(""), key);
  }
  EXPECT_EQ(ListKeys("").size(), 5u);
}

TEST_P(ObjectStoreConformance, PutFileCopiesAndLeavesTheLocalFile) {
  std::string data = BinaryData(2 * 1024 * 1024 + 5, 5);
  fs::path local = scratch() / "upload.parquet";
  WriteLocalFile(local, data);
  ASSERT_TRUE(store().PutFile("up/copy.parquet", local, false).ok());
  EXPECT_EQ(store().Get("up/copy.parquet").ValueOr(""), data);
  ASSERT_TRUE(fs::exists(local));
  EXPECT_EQ(ReadLocalFile(local), data);
  // The object is independent of the local file.
  WriteLocalFile(local, "changed");
  EXPECT_EQ(store().Get("up/copy.parquet").ValueOr(""), data);
}

TEST_P(ObjectStoreConformance, PutFileConsumeStoresAndTakesTheFile) {
  std::string data = BinaryData(70000, 6);
  fs::path local = scratch() / "staging" / "part-1.parquet";
  WriteLocalFile(local, data);
  ASSERT_TRUE(store().PutFile("up/consumed.parquet", local, true).ok());
  EXPECT_EQ(store().Get("up/consumed.parquet").ValueOr(""), data);
  EXPECT_FALSE(fs::exists(local));
  EXPECT_THAT(ListKeys(""), ElementsAre("up/consumed.parquet"));
}

TEST_P(ObjectStoreConformance, PutFileReplacesAnExistingObject) {
  ASSERT_TRUE(store().Put("up/x", "old").ok());
  WriteLocalFile(scratch() / "a", "copied");
  ASSERT_TRUE(store().PutFile("up/x", scratch() / "a", false).ok());
  EXPECT_EQ(store().Get("up/x").ValueOr(""), "copied");
  WriteLocalFile(scratch() / "b", "consumed");
  ASSERT_TRUE(store().PutFile("up/x", scratch() / "b", true).ok());
  EXPECT_EQ(store().Get("up/x").ValueOr(""), "consumed");
}

TEST_P(ObjectStoreConformance, PutFileOfMissingLocalFileIsNotFound) {
  Status st = store().PutFile("up/x", scratch() / "nope.parquet", true);
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_THAT(st.message(), HasSubstr("nope.parquet"));
  EXPECT_EQ(store().PutFile("up/x", scratch(), false).code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(ListKeys(""), IsEmpty());
}

TEST_P(ObjectStoreConformance, GetToFileWritesCreatesFoldersAndReplaces) {
  std::string data = BinaryData(1500000, 7);
  ASSERT_TRUE(store().Put("down/obj", data).ok());
  fs::path local = scratch() / "new" / "folder" / "obj.bin";
  ASSERT_TRUE(store().GetToFile("down/obj", local).ok());
  EXPECT_EQ(ReadLocalFile(local), data);
  ASSERT_TRUE(store().Put("down/obj", "small").ok());
  ASSERT_TRUE(store().GetToFile("down/obj", local).ok());
  EXPECT_EQ(ReadLocalFile(local), "small");
  // Only the destination is left behind, no temp files.
  size_t entries = 0;
  for (const auto& entry : fs::directory_iterator(local.parent_path())) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1u);
}

TEST_P(ObjectStoreConformance, LocalPathWhenPresentOpensTheObject) {
  ASSERT_TRUE(store().Put("lp/file.parquet", "bytes on disk").ok());
  auto path = store().LocalPath("lp/file.parquet");
  if (!path) GTEST_SKIP() << store().Describe() << " has no local paths";
  EXPECT_TRUE(path->is_absolute());
  EXPECT_EQ(ReadLocalFile(*path), "bytes on disk");
}

TEST_P(ObjectStoreConformance, ConcurrentWritersAndDeletersInOneFolder) {
  if (!GetParam().skip_concurrency.empty()) GTEST_SKIP() << GetParam().skip_concurrency;
  // Deleting the last object of a folder may remove the folder while another thread is about to
  // write into it; every write must still land.
  constexpr int kThreads = 4;
  constexpr int kRounds = 60;
  std::vector<std::thread> threads;
  std::vector<std::string> failures(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds && failures[t].empty(); ++i) {
        std::string key = fmt::format("shared/deep/t{}-{}", t, i);
        Status st = store().Put(key, key);
        if (st.ok()) st = store().Get(key).status();
        if (st.ok()) st = store().Delete(key);
        if (!st.ok()) failures[t] = st.ToString();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& failure : failures) EXPECT_EQ(failure, "");
  EXPECT_THAT(ListKeys(""), IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(
    Local, ObjectStoreConformance,
    ::testing::Values(
        StoreFactory{"local", [](const fs::path& scratch) { return MakeLocalObjectStore(scratch / "lake"); }},
        StoreFactory{"local_nosync",
                     [](const fs::path& scratch) { return MakeLocalObjectStore(scratch / "lake", {.sync = false}); }}),
    [](const ::testing::TestParamInfo<StoreFactory>& info) { return info.param.name; });

}  // namespace sluice::storage::testing
