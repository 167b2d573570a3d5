// Archives come from drop zones and downloads. Unpacking any bytes must answer or refuse, stay
// inside its folder and within the limits, and never crash.

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "connectors/sources/files/zip_extract.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path& Scratch() {
  static const fs::path dir = [] {
    std::string pattern = (fs::temp_directory_path() / "sluice-zip-fuzz-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(Scratch(), ec);
    });
    return fs::path(pattern);
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fs::path archive = Scratch() / "input.zip";
  const fs::path out = Scratch() / "out";
  {
    std::ofstream file(archive, std::ios::binary | std::ios::trunc);
    file.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  sluice::connectors::ZipLimits limits;
  limits.max_unpacked_bytes = 8u << 20;  // keeps each run small; the checks are the same
  limits.max_entries = 1000;
  auto extracted = sluice::connectors::ExtractZip(archive, out, limits);
  if (extracted.ok()) {
    uint64_t total = 0;
    for (const auto& member : *extracted) {
      auto relative = member.lexically_normal().lexically_relative(out);
      if (relative.empty() || *relative.begin() == "..") __builtin_trap();  // escaped the folder
      std::error_code ec;
      total += fs::file_size(member, ec);
    }
    if (total > limits.max_unpacked_bytes) __builtin_trap();
  }
  std::error_code ec;
  fs::remove_all(out, ec);
  return 0;
}
