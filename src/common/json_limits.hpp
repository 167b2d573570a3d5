#pragma once

// nlohmann::json parses iteratively but copies, compares, dumps and destroys recursively, so a
// document nested 100,000 levels deep overflows the stack. Every parse of text from outside
// (request bodies, stored records, downloaded files) goes through ParseJsonBounded, which checks
// the nesting depth with a cheap scan first.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string_view>

#include "common/status.hpp"

namespace sluice {

/// Deepest nesting accepted; real documents stay far below, the stack stays far above.
inline constexpr size_t kMaxJsonDepth = 512;

/// Streaming nesting-depth check: feed any number of chunks, then ask. Tracks strings and escapes
/// so brackets inside string values do not count. Works on JSON lines as well as one document.
class JsonDepthScanner {
 public:
  explicit JsonDepthScanner(size_t max_depth = kMaxJsonDepth) : max_depth_(max_depth) {}
  void Feed(std::string_view chunk);
  /// Whether some point of the input so far nested deeper than the limit.
  bool exceeded() const { return exceeded_; }
  /// Byte offset (from the first chunk) where the limit was first passed.
  size_t exceeded_at() const { return exceeded_at_; }
  size_t max_depth() const { return max_depth_; }

 private:
  size_t max_depth_;
  size_t depth_ = 0;
  size_t offset_ = 0;
  size_t exceeded_at_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
  bool exceeded_ = false;
};

/// Parses `text` as one JSON document. Refuses (InvalidArgument) text that is not JSON or that
/// nests deeper than `max_depth`; `what` names the input in the message ("the request body").
Result<nlohmann::json> ParseJsonBounded(std::string_view text, std::string_view what, size_t max_depth = kMaxJsonDepth);

/// Like ParseJsonBounded, but returns a discarded value (is_discarded()) instead of an error, for
/// call sites that treat unreadable stored JSON as absent.
nlohmann::json ParseJsonOrDiscarded(std::string_view text, size_t max_depth = kMaxJsonDepth);

}  // namespace sluice
