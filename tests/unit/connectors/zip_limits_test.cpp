#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "connectors/sources/files/zip_extract.hpp"

namespace sluice::connectors {
namespace {
namespace fs = std::filesystem;

class ScratchDir {
 public:
  ScratchDir() {
    char pattern[] = "/tmp/sluice-zip-limits-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~ScratchDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct Member {
  std::string name;
  std::string data;
};

/// Writes a deflate-compressed zip with libarchive (an independent writer of the format).
void WriteZip(const fs::path& file, const std::vector<Member>& members) {
  std::unique_ptr<archive, decltype(&archive_write_free)> writer(archive_write_new(), &archive_write_free);
  ASSERT_EQ(archive_write_set_format_zip(writer.get()), ARCHIVE_OK);
  ASSERT_EQ(archive_write_set_options(writer.get(), "zip:compression=deflate"), ARCHIVE_OK);
  ASSERT_EQ(archive_write_open_filename(writer.get(), file.c_str()), ARCHIVE_OK);
  for (const auto& m : members) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(), &archive_entry_free);
    archive_entry_set_pathname(entry.get(), m.name.c_str());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(m.data.size()));
    ASSERT_EQ(archive_write_header(writer.get(), entry.get()), ARCHIVE_OK);
    ASSERT_EQ(archive_write_data(writer.get(), m.data.data(), m.data.size()), static_cast<la_ssize_t>(m.data.size()));
  }
  ASSERT_EQ(archive_write_close(writer.get()), ARCHIVE_OK);
}

/// Rows of distinct numbers: compresses like real CSV (a few to one), not like a bomb.
std::string RealisticCsv(size_t rows) {
  std::string csv = "id,amount,label\n";
  uint64_t x = 88172645463325252ull;
  for (size_t i = 0; i < rows; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    csv += std::to_string(i) + "," + std::to_string(x % 100000) + ".25,item-" + std::to_string(x % 997) + "\n";
  }
  return csv;
}

TEST(ZipLimitsTest, RefusesAMemberExpanding1000To1) {
  ScratchDir dir;
  WriteZip(dir.path() / "bomb.zip", {{"zeros.csv", std::string(64u << 20, '0')}});  // ~64 KB packed
  ASSERT_LT(fs::file_size(dir.path() / "bomb.zip"), 200'000u);
  auto extracted = ExtractZip(dir.path() / "bomb.zip", dir.path() / "out");
  ASSERT_FALSE(extracted.ok());
  EXPECT_EQ(extracted.status().code(), StatusCode::kDataError);
  EXPECT_NE(extracted.status().message().find("has a member 'zeros.csv' that expands more than 200:1"),
            std::string::npos)
      << extracted.status().message();
  EXPECT_NE(extracted.status().message().find("zip_max_ratio"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir.path() / "out"));  // the partial output is gone
}

TEST(ZipLimitsTest, RefusesTooManyMembers) {
  ScratchDir dir;
  std::vector<Member> members;
  for (int i = 0; i < 30; ++i) members.push_back({"m" + std::to_string(i) + ".csv", "a\n1\n"});
  WriteZip(dir.path() / "many.zip", members);
  ZipLimits limits;
  limits.max_entries = 20;
  auto extracted = ExtractZip(dir.path() / "many.zip", dir.path() / "out", limits);
  ASSERT_FALSE(extracted.ok());
  EXPECT_NE(extracted.status().message().find("has more than 20 members"), std::string::npos);
  limits.max_entries = 30;
  auto all = ExtractZip(dir.path() / "many.zip", dir.path() / "out2", limits);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->size(), 30u);
}

TEST(ZipLimitsTest, RefusesMoreThanTheTotalUnpackedSize) {
  ScratchDir dir;
  std::string csv = RealisticCsv(20'000);
  WriteZip(dir.path() / "big.zip", {{"a.csv", csv}, {"b.csv", csv}});
  ZipLimits limits;
  limits.max_unpacked_bytes = csv.size() + csv.size() / 2;
  auto extracted = ExtractZip(dir.path() / "big.zip", dir.path() / "out", limits);
  ASSERT_FALSE(extracted.ok());
  EXPECT_NE(extracted.status().message().find("unpacks to more than"), std::string::npos);
  limits.max_unpacked_bytes = 2 * csv.size();
  ASSERT_TRUE(ExtractZip(dir.path() / "big.zip", dir.path() / "out2", limits).ok());
}

TEST(ZipLimitsTest, DamagedArchiveWithoutAnErrorMessageIsADataError) {
  // Found by the zip_extract fuzz target: libarchive gives no message (NULL) for this damage, and
  // formatting NULL threw out of ExtractZip (std::terminate).
  const char* source_dir = std::getenv("SLUICE_SOURCE_DIR");
  fs::path input = fs::path(source_dir != nullptr ? source_dir : SLUICE_SOURCE_DIR_DEFAULT) / "tests" / "fuzz" /
                   "corpus" / "zip_extract" / "crash-null-error-string.zip";
  ASSERT_TRUE(fs::exists(input)) << input;
  ScratchDir dir;
  auto extracted = ExtractZip(input, dir.path() / "out");
  ASSERT_FALSE(extracted.ok());
  EXPECT_EQ(extracted.status().code(), StatusCode::kDataError);
  EXPECT_NE(extracted.status().message().find("unreadable archive data"), std::string::npos)
      << extracted.status().message();
}

TEST(ZipLimitsTest, RealisticDataUnpacksUnderTheDefaults) {
  ScratchDir dir;
  std::string csv = RealisticCsv(200'000);  // several MB, compresses a few to one
  std::string repetitive;
  for (int i = 0; repetitive.size() < (4u << 20); ++i)
    repetitive += "2024-01-01,OK,shipped,EUR," + std::to_string(i) + "\n";
  WriteZip(dir.path() / "ok.zip", {{"data.csv", csv}, {"status.csv", repetitive}, {"tiny.csv", "a\n"}});
  auto extracted = ExtractZip(dir.path() / "ok.zip", dir.path() / "out");
  ASSERT_TRUE(extracted.ok()) << extracted.status();
  ASSERT_EQ(extracted->size(), 3u);
  EXPECT_EQ(fs::file_size((*extracted)[0]), csv.size());
  EXPECT_EQ(fs::file_size((*extracted)[1]), repetitive.size());
}

}  // namespace
}  // namespace sluice::connectors
