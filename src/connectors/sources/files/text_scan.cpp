#include "connectors/sources/files/text_scan.hpp"

#include "common/json_limits.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace sluice::connectors {
namespace {

constexpr unsigned kChunk = 1u << 20;

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

/// gzopen reads plain files as they are, so one reader serves .csv and .csv.gz.
Result<std::unique_ptr<gzFile_s, GzCloser>> OpenForReading(const std::filesystem::path& file) {
  std::unique_ptr<gzFile_s, GzCloser> in(gzopen(file.c_str(), "rb"));
  if (!in) return Status::IoError("cannot open '{}': {}", file.string(), std::strerror(errno));
  gzbuffer(in.get(), kChunk);
  return in;
}

Status ReadError(gzFile_s* in, const std::filesystem::path& file) {
  int code = 0;
  const char* message = gzerror(in, &code);
  return Status::IoError("cannot read '{}': {}", file.string(), message != nullptr ? message : "read error");
}

}  // namespace

Result<LineEndings> ScanLineEndings(const std::filesystem::path& file) {
  SLUICE_ASSIGN_OR_RETURN(auto in, OpenForReading(file));
  std::vector<char> buffer(kChunk);
  LineEndings endings;
  char previous = '\0';
  for (;;) {
    int n = gzread(in.get(), buffer.data(), kChunk);
    if (n < 0) return ReadError(in.get(), file);
    if (n == 0) break;
    const char* begin = buffer.data();
    const char* end = begin + n;
    for (const char* p = begin; (p = static_cast<const char*>(std::memchr(p, '\n', end - p))) != nullptr; ++p) {
      char before = p == begin ? previous : p[-1];
      ++(before == '\r' ? endings.crlf : endings.lf);
    }
    previous = end[-1];
  }
  return endings;
}

Status RewriteWithLfEndings(const std::filesystem::path& from, const std::filesystem::path& to, char quote,
                            char escape) {
  SLUICE_ASSIGN_OR_RETURN(auto in, OpenForReading(from));
  std::unique_ptr<std::FILE, FileCloser> out(std::fopen(to.c_str(), "wb"));
  if (!out) return Status::IoError("cannot write '{}': {}", to.string(), std::strerror(errno));
  std::vector<char> buffer(kChunk);
  std::string converted;
  converted.reserve(kChunk + 1);
  bool in_quotes = false;
  bool escaped = false;     // inside quotes, the previous character was a distinct escape character
  bool pending_cr = false;  // a '\r' outside quotes, written once we know whether '\n' follows
  for (;;) {
    int n = gzread(in.get(), buffer.data(), kChunk);
    if (n < 0) return ReadError(in.get(), from);
    if (n == 0) break;
    converted.clear();
    for (int i = 0; i < n; ++i) {
      char c = buffer[static_cast<size_t>(i)];
      if (pending_cr) {
        pending_cr = false;
        if (c != '\n') converted.push_back('\r');  // a lone CR is data (or an old Mac ending): kept
      }
      if (in_quotes) {
        if (escaped) {
          escaped = false;
        } else if (c == escape && escape != quote) {
          escaped = true;
        } else if (c == quote) {
          in_quotes = false;  // a doubled quote ("") closes and reopens: same result
        }
        converted.push_back(c);
        continue;
      }
      if (c == '\r') {
        pending_cr = true;
        continue;
      }
      if (quote != '\0' && c == quote) in_quotes = true;
      converted.push_back(c);
    }
    if (std::fwrite(converted.data(), 1, converted.size(), out.get()) != converted.size()) {
      return Status::IoError("cannot write '{}' (disk full?)", to.string());
    }
  }
  if (pending_cr && std::fputc('\r', out.get()) == EOF) return Status::IoError("cannot write '{}'", to.string());
  if (std::fflush(out.get()) != 0) return Status::IoError("cannot write '{}' (disk full?)", to.string());
  return Status::OK();
}

Status CheckJsonNesting(const std::filesystem::path& file, const std::string& display) {
  SLUICE_ASSIGN_OR_RETURN(auto in, OpenForReading(file));
  std::vector<char> buffer(kChunk);
  JsonDepthScanner scanner;
  for (;;) {
    int n = gzread(in.get(), buffer.data(), kChunk);
    if (n < 0) return ReadError(in.get(), file);
    if (n == 0) break;
    scanner.Feed(std::string_view(buffer.data(), static_cast<size_t>(n)));
    if (scanner.exceeded()) {
      return Status::DataError(
          "{} nests JSON deeper than {} levels (at byte {}); sluice refuses such input. Flatten "
          "the data, or store the deep part as a JSON string",
          display, scanner.max_depth(), scanner.exceeded_at());
    }
  }
  return Status::OK();
}

}  // namespace sluice::connectors
