#include "storage/lake_layout.hpp"

#include <fmt/format.h>

namespace sluice::storage {
namespace {

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendJoined(std::string* out, std::string_view part) {
  if (part.empty()) return;
  if (!out->empty() && out->back() != '/') out->push_back('/');
  out->append(part);
}

std::string_view StripSlashes(std::string_view text) {
  while (!text.empty() && text.back() == '/') text.remove_suffix(1);
  return text;
}

}  // namespace

std::string HiveEscape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string HiveUnescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 && HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string PartitionSegment(std::string_view column, std::string_view value) {
  std::string out = HiveEscape(column);
  out.push_back('=');
  if (value.empty()) {
    out.append(kHiveDefaultPartition);
  } else if (value == kHiveDefaultPartition) {
    // Escaping one '_' keeps the literal string apart from NULL, and any URL decoder restores it.
    out.append("%5F");
    out.append(HiveEscape(value.substr(1)));
  } else {
    out.append(HiveEscape(value));
  }
  return out;
}

std::string PartitionPath(const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out;
  for (const auto& [column, value] : values) {
    if (!out.empty()) out.push_back('/');
    out.append(PartitionSegment(column, value));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParsePartitionPath(std::string_view key) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view segment = key.substr(start, end - start);
    size_t eq = segment.find('=');
    if (eq != std::string_view::npos && eq > 0) {
      std::string_view raw_value = segment.substr(eq + 1);
      std::string value = raw_value == kHiveDefaultPartition ? std::string() : HiveUnescape(raw_value);
      out.emplace_back(HiveUnescape(segment.substr(0, eq)), std::move(value));
    }
    start = end + 1;
  }
  return out;
}

std::string TableLayout::Root() const {
  std::string out;
  AppendJoined(&out, zone);
  AppendJoined(&out, source);
  AppendJoined(&out, table);
  return out;
}

std::string TableLayout::DataPrefix(std::string_view variant, std::string_view load_kind) const {
  std::string out = Root();
  AppendJoined(&out, variant);
  AppendJoined(&out, load_kind);
  return out;
}

std::string DataFileKey(std::string_view prefix, const std::vector<std::pair<std::string, std::string>>& partitions,
                        std::string_view run_id, int sequence, std::string_view extension) {
  std::string out(StripSlashes(prefix));
  AppendJoined(&out, PartitionPath(partitions));
  std::string file = fmt::format("part-{}-{:05d}", run_id, sequence);
  if (!extension.empty()) {
    file.push_back('.');
    file.append(extension);
  }
  AppendJoined(&out, file);
  return out;
}

}  // namespace sluice::storage
