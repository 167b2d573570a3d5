#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.hpp"

namespace sluice::connectors {

/// The CSV dialect options of a files source, as users wrote them (defaults where they did not).
struct CsvOptions {
  std::string delimiter = ",", quote = "\"", escape = "\"", comment, encoding = "utf-8";
  std::string date_format, timestamp_format;
  bool header = true, all_varchar = false;
  int64_t skip_rows = 0, sample_size = 20480;
  std::vector<std::string> null_values = {""};
};

/// read_csv() arguments for the dialect in `options`, the rest left to DuckDB's sniffer.
/// `type_struct` pins column types ("{'col': 'TYPE', …}"; "" pins none).
std::vector<std::string> SniffedCsvArguments(const CsvOptions& options, const std::string& type_struct);

/// read_csv() arguments that fix everything the sniffer decides for the file `path` (line
/// endings, header, columns and their types, date formats), found by sniffing it once.
/// DuckDB sniffs a CSV again each time a query over read_csv() is bound; a view over a large file
/// is bound several times per run, and each sniff reads its sample again (a fifth of a load's
/// CPU, measured). nullopt when sniffing fails: the caller reads with SniffedCsvArguments(), whose
/// errors are the ones users should see.
std::optional<std::vector<std::string>> PinnedCsvArguments(engine::Connection& connection, const std::string& path,
                                                           const CsvOptions& options, const std::string& type_struct);

}  // namespace sluice::connectors
