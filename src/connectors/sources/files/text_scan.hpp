#pragma once

// Streamed checks of text inputs before DuckDB reads them: what its readers refuse or crash on.

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/status.hpp"

namespace sluice::connectors {

/// How the lines of a text file end. Two exports concatenated (one from Windows) mix both, which
/// DuckDB's CSV sniffer refuses although pandas and Python's csv module read it.
struct LineEndings {
  uint64_t crlf = 0;  // lines ending in "\r\n"
  uint64_t lf = 0;    // lines ending in a bare "\n"
  bool mixed() const { return crlf > 0 && lf > 0; }
};

/// Counts line endings of `file` (gzip-compressed files are read through), streaming: memory
/// stays bounded whatever the size. Quotes are not considered (a count, not a parse).
Result<LineEndings> ScanLineEndings(const std::filesystem::path& file);

/// Streams `from` (plain or gzip) into `to` (plain), turning every "\r\n" outside quoted fields
/// into "\n"; quoted field contents are copied unchanged. `quote`/`escape` as the CSV options
/// ('\0' = none).
Status RewriteWithLfEndings(const std::filesystem::path& from, const std::filesystem::path& to, char quote,
                            char escape);

/// Refuses (DataError naming `display` and the byte offset) a JSON or JSON-lines file (plain or
/// gzip) nesting deeper than kMaxJsonDepth: DuckDB's JSON reader recurses per level and crashes
/// the process on input nested 100,000 deep. Streaming: memory stays bounded.
Status CheckJsonNesting(const std::filesystem::path& file, const std::string& display);

}  // namespace sluice::connectors
