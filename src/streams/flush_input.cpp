#include "streams/flush_input.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <deque>
#include <fstream>

#include "common/strings.hpp"
#include "streams/spool.hpp"

namespace sluice::streams {

namespace fs = std::filesystem;

namespace {

/// Reads of the whole file a bisection may make before it gives up on the records still undecided (they are
/// set aside too, with the last error): a segment with many unreadable records must not stall the stream.
constexpr int kMaxIsolationReads = 200;

std::string JsonString(std::string_view text) {
  return nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string ReadLinesSql(const fs::path& file) {
  // Every record is a JSON object (checked on arrival); the whole file is sampled so a field seen once still
  // gets its column, and a field whose type varies gets a type that holds every value.
  return fmt::format(
      "SELECT * FROM read_json({}, format = 'newline_delimited', records = true, sample_size = -1, "
      "maximum_depth = -1)",
      SqlQuote(file.string()));
}

namespace {

bool AboutTheData(const Status& status) {
  return status.code() == StatusCode::kDataError || status.code() == StatusCode::kInvalidArgument;
}

/// DuckDB's message without the name of the scratch file it read.
std::string ReaderMessage(const Status& status, const fs::path& file) {
  std::string message = Trim(Split(status.message(), '\n').front());
  std::string name = file.string();
  for (size_t at = message.find(name); at != std::string::npos; at = message.find(name)) {
    message.replace(at, name.size(), "the record");
  }
  return message;
}

/// Copies lines [first, last) of the input's lines file to `out`.
Status CopyLines(std::ifstream& in, const FlushInput& input, size_t first, size_t last, std::ofstream& out) {
  uint64_t begin = input.line_offsets[first], end = input.line_offsets[last];
  in.clear();
  in.seekg(static_cast<std::streamoff>(begin));
  std::string buffer(1 << 16, '\0');
  for (uint64_t left = end - begin; left > 0;) {
    auto n = static_cast<std::streamsize>(std::min<uint64_t>(left, buffer.size()));
    if (!in.read(buffer.data(), n)) return Status::IoError("cannot read {}", input.lines_file.string());
    out.write(buffer.data(), n);
    left -= static_cast<uint64_t>(n);
  }
  return Status::OK();
}

using Range = std::pair<size_t, size_t>;

Status WriteLines(const FlushInput& input, const std::vector<Range>& ranges, const fs::path& file) {
  std::ifstream in(input.lines_file, std::ios::binary);
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (!in || !out) return Status::IoError("cannot copy {} to {}", input.lines_file.string(), file.string());
  for (const auto& [first, last] : ranges) SLUICE_TRY(CopyLines(in, input, first, last, out));
  out.close();
  if (!out) return Status::IoError("cannot write {}; check the disk's free space", file.string());
  return Status::OK();
}

/// Appends the lines [first, last) to the unreadable file with `reason`.
Status SetAside(FlushInput* input, size_t first, size_t last, const std::string& reason) {
  std::ifstream in(input->lines_file, std::ios::binary);
  std::ofstream out(input->unreadable_file, std::ios::binary | std::ios::app);
  if (!in || !out) return Status::IoError("cannot write {}", input->unreadable_file.string());
  for (size_t i = first; i < last; ++i) {
    std::string line(input->line_offsets[i + 1] - input->line_offsets[i], '\0');
    in.seekg(static_cast<std::streamoff>(input->line_offsets[i]));
    if (!in.read(line.data(), static_cast<std::streamsize>(line.size()))) {
      return Status::IoError("cannot read {}", input->lines_file.string());
    }
    // The line is {"t":N,"r":RECORD}\n as WriteFlushInput wrote it.
    size_t r = line.find(",\"r\":");
    std::string t = line.substr(5, r - 5);
    std::string record = line.substr(r + 5, line.size() - r - 5 - 2);
    out << "{\"t\":" << t << ",\"reason\":" << JsonString(reason) << ",\"record\":" << JsonString(record) << "}\n";
    ++input->set_aside;
  }
  out.close();
  if (!out) return Status::IoError("cannot write {}; check the disk's free space", input->unreadable_file.string());
  return Status::OK();
}

}  // namespace

Result<FlushInput> WriteFlushInput(const fs::path& segment_file, const fs::path& dir, FieldSpellings* spellings) {
  FlushInput input;
  input.lines_file = dir / "records.ndjson";
  input.unreadable_file = dir / "unreadable.ndjson";
  std::ofstream lines(input.lines_file, std::ios::binary | std::ios::trunc);
  std::ofstream unreadable(input.unreadable_file, std::ios::binary | std::ios::trunc);
  if (!lines || !unreadable) return Status::IoError("cannot write in {}", dir.string());
  uint64_t offset = 0;
  SLUICE_TRY(ReadSegment(segment_file, [&](FrameKind kind, TimePoint arrival, std::string_view payload) -> Status {
               if (kind != FrameKind::kRecord) return Status::OK();
               ++input.records;
               std::string t = std::to_string(ToUnixMicros(arrival));
               if (std::string why = CheckFieldNames(payload, spellings); !why.empty()) {
                 unreadable << "{\"t\":" << t << ",\"reason\":" << JsonString(why)
                            << ",\"record\":" << JsonString(payload) << "}\n";
                 ++input.set_aside;
                 return Status::OK();
               }
               // The record stays one value, so its fields can never collide with the arrival time.
               input.line_offsets.push_back(offset);
               lines << "{\"t\":" << t << ",\"r\":" << payload << "}\n";
               offset += t.size() + payload.size() + 12;
               return Status::OK();
             }).status());
  input.line_offsets.push_back(offset);
  lines.close();
  unreadable.close();
  if (!lines || !unreadable) return Status::IoError("cannot write in {}; check the disk's free space", dir.string());
  return input;
}

Status IsolateUnreadable(FlushInput* input, const std::function<Status(const fs::path&)>& attempt) {
  const size_t lines = input->line_offsets.size() - 1;
  Status whole = attempt(input->lines_file);
  if (whole.ok() || !AboutTheData(whole) || lines == 0) return whole;

  // Greedy bisection: a chunk is tried together with every line kept so far; a chunk that fails is halved,
  // down to the one record that cannot be taken (or not next to the lines kept).
  fs::path trial = input->lines_file.parent_path() / "trial.ndjson";
  std::vector<Range> kept;
  std::deque<Range> chunks{{0, lines}};
  int tries = 1;
  bool last_try_is_kept = false;
  while (!chunks.empty()) {
    auto [first, last] = chunks.front();
    chunks.pop_front();
    std::vector<Range> ranges = kept;
    ranges.emplace_back(first, last);
    SLUICE_TRY(WriteLines(*input, ranges, trial));
    Status tried = attempt(trial);
    ++tries;
    if (tried.ok()) {
      kept.emplace_back(first, last);
      last_try_is_kept = true;
      continue;
    }
    if (!AboutTheData(tried)) return tried;
    last_try_is_kept = false;
    std::string reason = "DuckDB cannot take the record: " + ReaderMessage(tried, trial);
    if (last - first == 1) {
      SLUICE_TRY(SetAside(input, first, last, reason));
    } else if (tries >= kMaxIsolationReads) {
      SLUICE_TRY(SetAside(input, first, last,
                          fmt::format("not written: the flush gave up isolating unreadable records after {} tries; "
                                      "last error: {}",
                                      tries, reason)));
    } else {
      size_t middle = first + (last - first) / 2;
      chunks.emplace_front(middle, last);
      chunks.emplace_front(first, middle);
    }
  }
  if (last_try_is_kept) return Status::OK();
  SLUICE_TRY(WriteLines(*input, kept, trial));
  return attempt(trial);
}

Status ReadFlushInput(engine::Connection& connection, FlushInput* input, const std::string& table) {
  return IsolateUnreadable(input, [&](const fs::path& file) {
    return connection.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS {}", table, ReadLinesSql(file)));
  });
}

std::string UnreadableSelect(const FlushInput& input, const std::string& source_file) {
  return fmt::format(
      "SELECT make_timestamp(t) AS _arrived_at, CAST(make_timestamp(t) AS DATE) AS _arrival_date, {} AS _source_file, "
      "record AS _record, reason AS _reject_reason FROM read_json({}, format = 'newline_delimited', "
      "columns = {{t: 'BIGINT', reason: 'VARCHAR', record: 'VARCHAR'}})",
      SqlQuote(source_file), SqlQuote(input.unreadable_file.string()));
}

}  // namespace sluice::streams
