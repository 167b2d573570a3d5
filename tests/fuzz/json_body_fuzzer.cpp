// JSON from outside (API request bodies, stored run details, query results): the bounded parse
// must refuse or return a value that can be copied, compared, dumped and destroyed — the
// operations that recurse in nlohmann::json and overflowed the stack on deep input.

#include <cstdint>
#include <string_view>

#include "common/json_limits.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = sluice::ParseJsonBounded(text, "the request body");
  nlohmann::json discarded = sluice::ParseJsonOrDiscarded(text);
  if (parsed.ok() == discarded.is_discarded()) __builtin_trap();  // the two entry points must agree
  if (!parsed.ok()) return 0;
  nlohmann::json copy = *parsed;
  if (copy != *parsed) __builtin_trap();
  std::string dumped = copy.dump();
  // What we write must read back the same (the API's responses are parsed by our own CLI).
  auto again = sluice::ParseJsonBounded(dumped, "the dump");
  if (!again.ok()) __builtin_trap();
  if (copy.is_object()) {
    // The trigger body's shape: keys looked up by name, values inspected by type.
    (void)copy.contains("job");
    if (auto it = copy.find("full_refresh"); it != copy.end()) (void)it->is_boolean();
  }
  return 0;
}
