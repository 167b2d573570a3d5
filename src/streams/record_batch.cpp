#include "streams/record_batch.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/json_limits.hpp"
#include "streams/record_shape.hpp"

namespace sluice::streams {

namespace {

std::string_view TrimView(std::string_view text) {
  while (!text.empty() &&
         (text.front() == ' ' || text.front() == '\t' || text.front() == '\r' || text.front() == '\n')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

void Add(RecordBatch* batch, std::string_view text, const BatchLimits& limits) {
  size_t index = batch->total++;
  auto record = CheckRecord(text, limits);
  if (record.ok()) {
    batch->records.push_back(std::move(*record));
  } else {
    batch->failed.emplace_back(index, record.status().message());
  }
}

}  // namespace

Result<std::string> CheckRecord(std::string_view text, const BatchLimits& limits) {
  text = TrimView(text);
  if (text.size() > limits.max_record_size) {
    return Status::Invalid("the record of {} bytes is over max_record_size ({} bytes)", text.size(),
                           limits.max_record_size);
  }
  if (text.empty() || text.front() != '{') return Status::Invalid("the record is not a JSON object");
  JsonDepthScanner depth;
  depth.Feed(text);
  if (depth.exceeded()) return Status::Invalid("the record nests deeper than {} levels", depth.max_depth());
  // Validating without building a document is several times faster than parsing; the field names are
  // checked in the same pass, so a record no table could hold fails here, by its index.
  if (std::string why = CheckFieldNames(text); !why.empty()) return Status::Invalid("{}", why);
  if (text.find_first_of("\r\n") == std::string_view::npos) return std::string(text);
  // A record written over several lines becomes one line: the spool and the flush read JSON lines.
  return nlohmann::json::parse(text).dump();
}

Result<ParsedBody> ParseRecordBody(std::string_view body, BodyFormat format, const BatchLimits& limits) {
  ParsedBody parsed;
  std::string_view trimmed = TrimView(body);
  if (trimmed.empty())
    return Status::Invalid("the body is empty; send a JSON object, a JSON array of objects or NDJSON");
  auto over = [&] {
    if (parsed.batch.total <= static_cast<size_t>(limits.max_records)) return false;
    parsed.too_many = true;
    return true;
  };
  if (format == BodyFormat::kJson && trimmed.front() == '[') {
    auto document = ParseJsonBounded(trimmed, "the request body");
    if (!document.ok()) return document.status();
    if (!document->is_array()) return Status::Invalid("the body is not a JSON array");
    if (document->size() > static_cast<size_t>(limits.max_records)) {
      parsed.too_many = true;
      parsed.batch.total = document->size();
      return parsed;
    }
    for (const auto& element : *document) {
      size_t index = parsed.batch.total++;
      if (!element.is_object()) {
        parsed.batch.failed.emplace_back(index, "the record is not a JSON object");
        continue;
      }
      std::string line = element.dump();
      if (std::string why = CheckFieldNames(line); !why.empty()) {
        parsed.batch.failed.emplace_back(index, std::move(why));
        continue;
      }
      if (line.size() > limits.max_record_size) {
        parsed.batch.failed.emplace_back(index, fmt::format("the record of {} bytes is over max_record_size ({} bytes)",
                                                            line.size(), limits.max_record_size));
        continue;
      }
      parsed.batch.records.push_back(std::move(line));
    }
    return parsed;
  }
  if (format == BodyFormat::kJson && trimmed.find('\n') != std::string_view::npos) {
    // One object written over several lines, or NDJSON sent as application/json.
    JsonDepthScanner depth;
    depth.Feed(trimmed);
    if (!depth.exceeded() && nlohmann::json::accept(trimmed)) {
      Add(&parsed.batch, trimmed, limits);
      return parsed;
    }
  }
  size_t start = 0;
  while (start <= trimmed.size()) {
    size_t end = trimmed.find('\n', start);
    if (end == std::string_view::npos) end = trimmed.size();
    std::string_view line = TrimView(trimmed.substr(start, end - start));
    if (!line.empty()) {
      Add(&parsed.batch, line, limits);
      if (over()) return parsed;
    }
    start = end + 1;
  }
  return parsed;
}

std::string BatchAnswerJson(const RecordBatch& batch) {
  nlohmann::json failed = nlohmann::json::array();
  for (const auto& [index, error] : batch.failed) failed.push_back({{"index", index}, {"error", error}});
  return nlohmann::json{{"accepted", batch.records.size()}, {"failed", failed}}.dump();
}

}  // namespace sluice::streams
