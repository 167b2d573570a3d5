#pragma once

// Internal to config/: the steps ParseYaml is made of, used separately by the project and
// pipeline loaders so that references are resolved only after the environment overlay is
// chosen (an inactive environment may name variables that are not set here).

#include <string>
#include <string_view>
#include <vector>

#include "config/options.hpp"
#include "config/value.hpp"

namespace sluice::config::internal {

/// What was found, for "must be X, got Y" messages (a secret is never echoed).
std::string DescribeFound(const Value& v);

struct ValueAccess {
  static void SetScalar(Value* value, std::string text, bool secret) {
    value->scalar_ = std::move(text);
    value->secret_ = secret;
  }
  static void AddReference(Value* value, size_t offset, size_t length, bool from_default) {
    value->references_.push_back({offset, length, from_default});
  }
  static void SetWrittenDefault(Value* value) { value->written_default_ = true; }
  static void SetRedactor(Value* value, std::shared_ptr<Redactor> redactor) { value->redactor_ = std::move(redactor); }
  static std::vector<Value>& Items(Value* value) { return value->items_; }
  static std::vector<std::pair<std::string, Value>>& Entries(Value* value) { return value->entries_; }
  static std::vector<Location>& KeyLocations(Value* value) { return value->key_locations_; }
  static void SetLocation(Value* value, Location loc) { value->location_ = std::move(loc); }
};

/// YAML text to a Value whose scalars are still as written (no ${...} resolution). Syntax errors and
/// unreadable files are the returned Status; structural problems (duplicate keys, ...) go to `errors`.
Result<Value> ParseUnresolved(std::string_view text, const std::string& display_file, std::vector<std::string>* errors);
Result<Value> ParseFileUnresolved(const std::filesystem::path& file, const std::string& display_file,
                                  std::vector<std::string>* errors);

/// Resolves ${env:}/${file:} references in every scalar of *value, in place; problems go to `errors`.
void ResolveReferences(Value* value, const ParseOptions& options, std::vector<std::string>* errors);

/// Removes the `environments:` section from *doc and merges `environments.<env>` into it.
/// `owner` names the file for messages ("sluice.yaml", "pipeline 'x'"). Returns the defined
/// environment names (file order); each overlay is checked against `keys` for unknown keys.
/// An `env` that is not defined is an error only if `require_defined`.
std::vector<std::string> ApplyEnvironment(Value* doc, const std::string& env, std::string_view owner,
                                          const std::vector<OptionSpec>& keys, bool require_defined,
                                          std::vector<std::string>* errors);

/// "FILE:LINE:COL: " or "" when the location is unknown.
std::string Prefix(const Location& loc);

/// Whether `name` is usable as a job/pipeline/connection name: letters, digits, '_', '-', '.'.
bool IsPlainName(std::string_view name);

}  // namespace sluice::config::internal
