#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "config/value.hpp"

namespace sluice::config {

/// Plug-ins declare their options as data; validation and docs come from the same table.
enum class OptionType { kString, kInt, kDouble, kBool, kDuration, kByteSize, kStringList, kMap, kList, kAny };

struct OptionSpec {
  std::string key;
  OptionType type = OptionType::kString;
  std::string default_value;  // "" = none
  bool required = false;
  /// A credential: ValidateOptions refuses a value written into the file (it must be ${env:…} or ${file:…},
  /// without a default) and registers the value with the Redactor, so it is masked whatever its length.
  /// In a map-valued option (headers), credential-named entries must be references; all referenced
  /// values are masked.
  bool secret = false;
  std::string description;
};

/// "string", "int", "double", "bool", "duration", "byte size", "string list", "map", "list", "any".
const char* OptionTypeName(OptionType type);

/// The expected form in words, for messages: "a whole number", "a duration such as 30s, 5m, 2h or 1 day", ...
const char* OptionTypeForm(OptionType type);

/// Whether `value` (non-null) has the form `type` asks for.
bool MatchesType(const Value& value, OptionType type);

/// Checks `map` (must be a map; a null Value counts as empty) against `specs`: unknown keys (with a
/// "did you mean 'x'?" from NearestWord), missing required keys, values of the wrong type, secrets
/// written into the file and URLs with a password written into them. Registers the values of secret keys
/// (and URL passwords / referenced query values) with the Redactor the values were resolved with.
/// Every problem is appended to `errors` as "FILE:LINE:COL: <what> in <context>: ...".
/// `context` e.g. "source of job 'clean'". A key present with an empty (null) value counts as absent.
void ValidateOptions(const Value& map, const std::vector<OptionSpec>& specs, std::string_view context,
                     std::vector<std::string>* errors);

/// Markdown table of the specs (key, type, default, required, description) for generated docs.
std::string OptionsMarkdown(const std::vector<OptionSpec>& specs);

/// Folds error lines (duplicates dropped) into one Status::Invalid: a single error is its own
/// message; several start with the summary line "N configuration errors:". OK when empty.
Status ErrorsToStatus(const std::vector<std::string>& errors);

}  // namespace sluice::config
