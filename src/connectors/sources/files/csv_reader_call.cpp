#include "connectors/sources/files/csv_reader_call.hpp"

#include <fmt/format.h>

#include "common/strings.hpp"

namespace sluice::connectors {
namespace {

std::string SqlList(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const auto& item : items) quoted.push_back(SqlQuote(item));
  return "[" + Join(quoted, ", ") + "]";
}

/// The options that shape how a file is parsed, whether or not the sniffer runs.
std::vector<std::string> DialectArguments(const CsvOptions& c) {
  std::vector<std::string> args;
  args.push_back("delim = " + SqlQuote(c.delimiter));
  args.push_back("quote = " + SqlQuote(c.quote));
  args.push_back("escape = " + SqlQuote(c.escape));
  args.push_back(fmt::format("header = {}", c.header));
  args.push_back("nullstr = " + SqlList(c.null_values));
  args.push_back("encoding = " + SqlQuote(c.encoding));
  if (c.skip_rows > 0) args.push_back(fmt::format("skip = {}", c.skip_rows));
  if (!c.comment.empty()) args.push_back("comment = " + SqlQuote(c.comment));
  if (!c.date_format.empty()) args.push_back("dateformat = " + SqlQuote(c.date_format));
  if (!c.timestamp_format.empty()) args.push_back("timestampformat = " + SqlQuote(c.timestamp_format));
  return args;
}

/// How sniff_csv() reports a setting it found nothing for.
bool IsUnset(const std::string& sniffed) { return sniffed.empty() || sniffed == "(empty)"; }

}  // namespace

std::vector<std::string> SniffedCsvArguments(const CsvOptions& c, const std::string& type_struct) {
  auto args = DialectArguments(c);
  args.push_back(fmt::format("sample_size = {}", c.sample_size));
  if (c.all_varchar) args.push_back("all_varchar = true");
  if (!type_struct.empty()) args.push_back("types = " + type_struct);
  return args;
}

std::optional<std::vector<std::string>> PinnedCsvArguments(engine::Connection& connection, const std::string& path,
                                                           const CsvOptions& c, const std::string& type_struct) {
  // ignore_errors as in the read itself: it changes what the sniffer accepts as the dialect.
  auto sniff_args = SniffedCsvArguments(c, type_struct);
  sniff_args.push_back("ignore_errors = true");
  // The column list is built in SQL, one string, so its order is the file's.
  auto sniffed = connection.Query(fmt::format(
      "SELECT NewLineDelimiter AS new_line, SkipRows AS skip, Comment AS comment, DateFormat AS date_format, "
      "TimestampFormat AS timestamp_format, len(Columns) AS column_count, "
      "'{{' || array_to_string(list_transform(Columns, c -> '''' || replace(c.name, '''', '''''') || ''': ''' || "
      "replace(c.type, '''', '''''') || ''''), ', ') || '}}' AS columns "
      "FROM sniff_csv({}, {})",
      SqlQuote(path), Join(sniff_args, ", ")));
  if (!sniffed.ok() || sniffed->rows.size() != 1 || sniffed->GetInt(0, "column_count") <= 0) return std::nullopt;

  CsvOptions pinned = c;
  // SkipRows counts the lines before the header the sniffer found, the user's skip: included.
  pinned.skip_rows = sniffed->GetInt(0, "skip", c.skip_rows);
  if (pinned.comment.empty() && !IsUnset(sniffed->Get(0, "comment"))) pinned.comment = sniffed->Get(0, "comment");
  if (std::string date = sniffed->Get(0, "date_format"); pinned.date_format.empty() && !IsUnset(date)) {
    pinned.date_format = date;
  }
  if (std::string timestamp = sniffed->Get(0, "timestamp_format");
      pinned.timestamp_format.empty() && !IsUnset(timestamp)) {
    pinned.timestamp_format = timestamp;
  }
  auto args = DialectArguments(pinned);
  args.push_back("auto_detect = false");
  args.push_back("columns = " + sniffed->Get(0, "columns"));
  if (std::string new_line = sniffed->Get(0, "new_line"); !IsUnset(new_line))
    args.push_back("new_line = " + SqlQuote(new_line));
  return args;
}

}  // namespace sluice::connectors
