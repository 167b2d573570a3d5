#include "cli/output_format.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>

#include "common/strings.hpp"

namespace sluice::cli {
namespace {

/// Display width in terminal columns, counting UTF-8 code points.
size_t DisplayWidth(const std::string& s) {
  size_t width = 0;
  for (unsigned char c : s) width += (c & 0xC0) != 0x80;
  return width;
}

std::string Pad(const std::string& s, size_t width) {
  return s + std::string(width - std::min(width, DisplayWidth(s)), ' ');
}

Status PrintJson(FILE* out, engine::Connection& connection, const std::string& sql) {
  // DuckDB renders each row as a JSON object with proper types (numbers stay numbers).
  SLUICE_ASSIGN_OR_RETURN(auto stream,
                          connection.Stream(fmt::format("SELECT to_json(q)::VARCHAR AS j FROM ({}) q", sql)));
  std::vector<engine::TextRow> batch;
  bool first = true;
  std::fputs("[", out);
  while (true) {
    SLUICE_TRY(stream->Next(&batch));
    if (batch.empty()) break;
    for (const auto& row : batch) {
      fmt::print(out, "{}{}", first ? "\n  " : ",\n  ", row[0].value_or("null"));
      first = false;
    }
  }
  std::fputs(first ? "]\n" : "\n]\n", out);
  return Status::OK();
}

}  // namespace

std::string ShortTime(TimePoint t) {
  return fmt::format("{:%Y-%m-%d %H:%M:%S}", std::chrono::floor<std::chrono::seconds>(t));
}

std::string CsvField(const std::optional<std::string>& value) {
  if (!value) return "";
  const std::string& v = *value;
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void PrintTable(FILE* out, const std::vector<std::string>& header, const std::vector<engine::TextRow>& rows) {
  std::vector<size_t> widths(header.size());
  for (size_t c = 0; c < header.size(); ++c) widths[c] = DisplayWidth(header[c]);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], DisplayWidth(row[c].value_or("NULL")));
    }
  }
  auto print_row = [&](auto cell) {
    std::string line;
    for (size_t c = 0; c < widths.size(); ++c) {
      if (c > 0) line += "  ";
      line += Pad(cell(c), widths[c]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    fmt::print(out, "{}\n", line);
  };
  print_row([&](size_t c) { return header[c]; });
  print_row([&](size_t c) { return std::string(widths[c], '-'); });
  for (const auto& row : rows) print_row([&](size_t c) { return row[c].value_or("NULL"); });
}

Status PrintQuery(FILE* out, engine::Connection& connection, const std::string& sql, OutputFormat format,
                  size_t max_table_rows) {
  if (format == OutputFormat::kJson) return PrintJson(out, connection, sql);
  auto stream = connection.Stream(sql);
  if (!stream.ok()) {
    // Statements that cannot be wrapped as a subquery (PRAGMA, SHOW, SET…) run as they are.
    auto direct = connection.Query(sql);
    if (!direct.ok()) return direct.status();
    if (format == OutputFormat::kCsv) {
      std::vector<std::string> header;
      for (const auto& h : direct->column_names) header.push_back(CsvField(h));
      fmt::print(out, "{}\n", Join(header, ","));
      for (const auto& row : direct->rows) {
        std::vector<std::string> fields;
        for (const auto& v : row) fields.push_back(CsvField(v));
        fmt::print(out, "{}\n", Join(fields, ","));
      }
    } else {
      PrintTable(out, direct->column_names, direct->rows);
    }
    return Status::OK();
  }
  auto& rows_stream = **stream;
  std::vector<engine::TextRow> batch;
  if (format == OutputFormat::kCsv) {
    std::vector<std::string> header;
    for (const auto& h : rows_stream.column_names()) header.push_back(CsvField(h));
    fmt::print(out, "{}\n", Join(header, ","));
    while (true) {
      SLUICE_TRY(rows_stream.Next(&batch));
      if (batch.empty()) break;
      for (const auto& row : batch) {
        std::string line;
        for (size_t c = 0; c < row.size(); ++c) {
          if (c > 0) line += ',';
          line += CsvField(row[c]);
        }
        line += '\n';
        std::fwrite(line.data(), 1, line.size(), out);
      }
    }
    return Status::OK();
  }
  std::vector<engine::TextRow> shown;
  size_t total = 0;
  while (true) {
    SLUICE_TRY(rows_stream.Next(&batch));
    if (batch.empty()) break;
    for (auto& row : batch) {
      if (shown.size() < max_table_rows) shown.push_back(std::move(row));
      ++total;
    }
  }
  PrintTable(out, rows_stream.column_names(), shown);
  if (total > shown.size()) {
    fmt::print(out, "({} rows, {} shown; use --format csv or --max-rows for all)\n", total, shown.size());
  } else {
    fmt::print(out, "({} row{})\n", total, total == 1 ? "" : "s");
  }
  return Status::OK();
}

}  // namespace sluice::cli
