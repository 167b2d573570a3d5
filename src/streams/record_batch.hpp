#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.hpp"

// A request's body as records: one JSON object, a JSON array of them, or NDJSON. Every record is checked
// on its own (an object, within the size and nesting limits), so one bad record fails alone, by index.
namespace sluice::streams {

struct BatchLimits {
  uint64_t max_record_size = 1ull << 20;
  int64_t max_records = 500;
};

struct RecordBatch {
  /// Accepted records as single-line JSON, in request order.
  std::vector<std::string> records;
  /// (index in the request, why) of each refused record.
  std::vector<std::pair<size_t, std::string>> failed;
  /// Records in the request (accepted + failed).
  size_t total = 0;
};

enum class BodyFormat { kJson, kNdjson };

/// A record as it is spooled: one line of JSON (compacted when it spans lines), or why it cannot be one.
Result<std::string> CheckRecord(std::string_view text, const BatchLimits& limits);

/// Splits and checks `body`. InvalidArgument when the body as a whole is unreadable (a JSON body that is
/// neither an object, an array nor NDJSON); Conflict-free: more than limits.max_records records is
/// reported by `too_many` so the caller answers 413.
struct ParsedBody {
  RecordBatch batch;
  bool too_many = false;
};
Result<ParsedBody> ParseRecordBody(std::string_view body, BodyFormat format, const BatchLimits& limits);

/// The API's answer {"accepted": N, "failed": [{"index": i, "error": "…"}]}.
std::string BatchAnswerJson(const RecordBatch& batch);

}  // namespace sluice::streams
