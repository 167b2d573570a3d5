#include "common/json_limits.hpp"

namespace sluice {

void JsonDepthScanner::Feed(std::string_view chunk) {
  if (exceeded_) return;
  for (size_t i = 0; i < chunk.size(); ++i) {
    char c = chunk[i];
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
      continue;
    }
    switch (c) {
      case '"': in_string_ = true; break;
      case '[':
      case '{':
        if (++depth_ > max_depth_) {
          exceeded_ = true;
          exceeded_at_ = offset_ + i;
          return;
        }
        break;
      case ']':
      case '}':
        if (depth_ > 0) --depth_;
        break;
      default: break;
    }
  }
  offset_ += chunk.size();
}

Result<nlohmann::json> ParseJsonBounded(std::string_view text, std::string_view what, size_t max_depth) {
  JsonDepthScanner scanner(max_depth);
  scanner.Feed(text);
  if (scanner.exceeded()) {
    return Status::Invalid("{} nests JSON deeper than {} levels (at byte {}); flatten the document", what, max_depth,
                           scanner.exceeded_at());
  }
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    return Status::Invalid("{} is not valid JSON: {}", what, e.what());
  } catch (const std::exception& e) {
    return Status::Invalid("{} cannot be read as JSON: {}", what, e.what());
  }
}

nlohmann::json ParseJsonOrDiscarded(std::string_view text, size_t max_depth) {
  JsonDepthScanner scanner(max_depth);
  scanner.Feed(text);
  if (scanner.exceeded()) return nlohmann::json(nlohmann::json::value_t::discarded);
  return nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

}  // namespace sluice
