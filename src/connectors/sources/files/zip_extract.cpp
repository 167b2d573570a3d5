#include "connectors/sources/files/zip_extract.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <fstream>

namespace sluice::connectors {
namespace {

struct ArchiveCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};

bool EscapesDestination(const std::filesystem::path& member) {
  if (member.is_absolute()) return true;
  for (const auto& part : member) {
    if (part == "..") return true;
  }
  return false;
}

}  // namespace

Result<std::vector<std::filesystem::path>> ExtractZip(const std::filesystem::path& archive_path,
                                                      const std::filesystem::path& destination) {
  std::unique_ptr<archive, ArchiveCloser> reader(archive_read_new());
  archive_read_support_format_zip(reader.get());
  archive_read_support_filter_all(reader.get());
  if (archive_read_open_filename(reader.get(), archive_path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return Status::DataError("cannot open zip archive '{}': {}", archive_path.string(),
                             archive_error_string(reader.get()));
  }
  std::error_code ec;
  std::filesystem::create_directories(destination, ec);
  std::vector<std::filesystem::path> extracted;
  archive_entry* entry = nullptr;
  while (true) {
    int rc = archive_read_next_header(reader.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
      return Status::DataError("zip archive '{}' is damaged: {}", archive_path.string(),
                               archive_error_string(reader.get()));
    }
    if (archive_entry_filetype(entry) != AE_IFREG) continue;
    std::filesystem::path member = archive_entry_pathname(entry);
    if (EscapesDestination(member)) {
      return Status::DataError("zip archive '{}' has a member '{}' that points outside the archive; refusing it",
                               archive_path.string(), member.string());
    }
    auto target = destination / member;
    std::filesystem::create_directories(target.parent_path(), ec);
    std::ofstream out(target, std::ios::binary);
    if (!out) return Status::IoError("cannot write '{}' while unpacking '{}'", target.string(), archive_path.string());
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    while ((rc = archive_read_data_block(reader.get(), &block, &size, &offset)) == ARCHIVE_OK) {
      out.write(static_cast<const char*>(block), static_cast<std::streamsize>(size));
    }
    if (rc != ARCHIVE_EOF) {
      return Status::DataError("cannot unpack '{}' from zip archive '{}': {}", member.string(),
                               archive_path.string(), archive_error_string(reader.get()));
    }
    out.close();
    if (!out) return Status::IoError("cannot write '{}' (disk full?)", target.string());
    extracted.push_back(target);
  }
  return extracted;
}

}  // namespace sluice::connectors
