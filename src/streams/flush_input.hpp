#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "engine/engine.hpp"
#include "streams/record_shape.hpp"

// The records of one spool segment on their way into DuckDB. A record no table can hold never stops a
// flush: it is set aside, with the reason, for the flush's <table>__rejects.
namespace sluice::streams {

struct FlushInput {
  int64_t records = 0;                    // record frames of the segment
  int64_t set_aside = 0;                  // of them, written to unreadable_file instead of lines_file
  std::filesystem::path lines_file;       // {"t": arrival µs, "r": record} per line
  std::filesystem::path unreadable_file;  // {"t": arrival µs, "reason": "…", "record": "<the record's JSON text>"}
  std::vector<uint64_t> line_offsets;     // where each line of lines_file starts, and its end
};

/// Writes the records of `segment_file` under `dir` (records.ndjson, unreadable.ndjson). A record whose field
/// names cannot become columns (CheckFieldNames against `spellings`, which starts with the table's columns) is
/// set aside.
Result<FlushInput> WriteFlushInput(const std::filesystem::path& segment_file, const std::filesystem::path& dir,
                                   FieldSpellings* spellings);

/// Runs `attempt` over the input's lines file. When it fails on the data (a DuckDB conversion, input or binder
/// error), the records it cannot take are found by bisection — chunks tried together with every line kept so far,
/// halved down to one record — and set aside with DuckDB's message (a record that only fails next to earlier
/// ones is the one set aside). When this returns OK, the last call of `attempt` was over exactly the lines kept.
/// An error that is not about the data (disk, memory) is returned at once, and the flush is retried.
Status IsolateUnreadable(FlushInput* input, const std::function<Status(const std::filesystem::path&)>& attempt);

/// The DuckDB query reading a lines file: columns t and r (the record, a STRUCT of its fields).
std::string ReadLinesSql(const std::filesystem::path& lines_file);

/// Reads the input's lines into the temp table `table` (columns t, r), setting aside what DuckDB's JSON reader
/// refuses (IsolateUnreadable).
Status ReadFlushInput(engine::Connection& connection, FlushInput* input, const std::string& table);

/// The SELECT of the records set aside, shaped like the stream's rejects: _arrived_at, _arrival_date,
/// _source_file, _record (the JSON text) and _reject_reason.
std::string UnreadableSelect(const FlushInput& input, const std::string& source_file);

}  // namespace sluice::streams
