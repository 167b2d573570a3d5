#include "connectors/sources/files/zip_extract.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <fstream>

#include "common/strings.hpp"

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

/// libarchive's message for the last error; it has none for some damaged archives (NULL, which
/// fmt refuses to format).
const char* ArchiveError(archive* a) {
  const char* message = archive_error_string(a);
  return message != nullptr ? message : "unreadable archive data";
}

/// libarchive reads the file in blocks of this size, so a member's compressed size is known
/// only to within one block: ratios are measured against at least this much.
constexpr int64_t kReadBlock = 1 << 16;

}  // namespace

Result<std::vector<std::filesystem::path>> ExtractZip(const std::filesystem::path& archive_path,
                                                      const std::filesystem::path& destination,
                                                      const ZipLimits& limits) {
  std::unique_ptr<archive, ArchiveCloser> reader(archive_read_new());
  archive_read_support_format_zip(reader.get());
  archive_read_support_filter_all(reader.get());
  if (archive_read_open_filename(reader.get(), archive_path.c_str(), kReadBlock) != ARCHIVE_OK) {
    return Status::DataError("cannot open zip archive '{}': {}", archive_path.string(), ArchiveError(reader.get()));
  }
  std::error_code ec;
  std::filesystem::create_directories(destination, ec);
  std::vector<std::filesystem::path> extracted;
  archive_entry* entry = nullptr;
  uint64_t entries = 0;
  uint64_t unpacked_total = 0;
  auto refuse = [&](const std::string& why) {
    // What was unpacked so far is scratch space; the run's work folder is removed with it, but a
    // bomb's partial output should not sit there until then.
    std::filesystem::remove_all(destination, ec);
    return Status::DataError(
        "zip archive '{}' {}; refusing it (a zip bomb?). If the archive is genuine, raise the "
        "source's zip_max_bytes:, zip_max_entries: or zip_max_ratio: option",
        archive_path.string(), why);
  };
  while (true) {
    int rc = archive_read_next_header(reader.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
      return Status::DataError("zip archive '{}' is damaged: {}", archive_path.string(), ArchiveError(reader.get()));
    }
    if (++entries > limits.max_entries) return refuse(fmt::format("has more than {} members", limits.max_entries));
    if (archive_entry_filetype(entry) != AE_IFREG) continue;
    const char* name = archive_entry_pathname(entry);
    if (name == nullptr || *name == '\0') {
      return Status::DataError("zip archive '{}' has a member without a name (member {}); refusing it",
                               archive_path.string(), entries);
    }
    std::filesystem::path member = name;
    if (EscapesDestination(member)) {
      return Status::DataError("zip archive '{}' has a member '{}' that points outside the archive; refusing it",
                               archive_path.string(), member.string());
    }
    auto target = destination / member;
    std::filesystem::create_directories(target.parent_path(), ec);
    std::ofstream out(target, std::ios::binary);
    if (!out) return Status::IoError("cannot write '{}' while unpacking '{}'", target.string(), archive_path.string());
    const int64_t packed_start = archive_filter_bytes(reader.get(), -1);
    uint64_t unpacked = 0;
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    while ((rc = archive_read_data_block(reader.get(), &block, &size, &offset)) == ARCHIVE_OK) {
      unpacked += size;
      unpacked_total += size;
      if (unpacked_total > limits.max_unpacked_bytes) {
        return refuse(fmt::format("unpacks to more than {}", HumanBytes(limits.max_unpacked_bytes)));
      }
      int64_t packed = std::max(archive_filter_bytes(reader.get(), -1) - packed_start, kReadBlock);
      if (unpacked > limits.max_ratio * static_cast<uint64_t>(packed)) {
        return refuse(fmt::format("has a member '{}' that expands more than {}:1", member.string(), limits.max_ratio));
      }
      out.write(static_cast<const char*>(block), static_cast<std::streamsize>(size));
    }
    if (rc != ARCHIVE_EOF) {
      return Status::DataError("cannot unpack '{}' from zip archive '{}': {}", member.string(), archive_path.string(),
                               ArchiveError(reader.get()));
    }
    out.close();
    if (!out) return Status::IoError("cannot write '{}' (disk full?)", target.string());
    extracted.push_back(target);
  }
  return extracted;
}

}  // namespace sluice::connectors
