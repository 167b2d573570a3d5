#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/secret.hpp"
#include "common/status.hpp"

namespace sluice::config {

namespace internal {
struct ValueAccess;
}

/// Where something was written. 1-based; `file` as given (relative to the project root when inside it).
struct Location {
  std::string file;
  int line = 0;
  int column = 0;
  /// "pipelines/x.yaml:12:3"; just the file when line == 0; "" when nothing is known.
  std::string ToString() const;
};

/// A YAML node after ${...} resolution, with where it was written. Maps keep file order.
class Value {
 public:
  enum class Kind { kNull, kScalar, kList, kMap };

  Value();  // null, no location

  Kind kind() const { return kind_; }
  bool IsNull() const { return kind_ == Kind::kNull; }
  bool IsScalar() const { return kind_ == Kind::kScalar; }
  bool IsList() const { return kind_ == Kind::kList; }
  bool IsMap() const { return kind_ == Kind::kMap; }

  const Location& location() const { return location_; }
  /// Key path for messages, e.g. "jobs.clean.target.zone" or "jobs.clean.steps[1].clean".
  const std::string& path() const { return path_; }
  /// Resolved text ("" unless a scalar).
  const std::string& scalar() const { return scalar_; }
  /// The scalar took text from the environment or a file (a ${env:}/${file:} reference that did not fall
  /// back to its default): never echo it in messages or listings. Not the same as "masked everywhere":
  /// only values of secret keys (and URL passwords/query values) are registered with the Redactor.
  bool is_secret() const { return secret_; }
  /// The scalar was written with at least one ${...} reference (even if only a default was used).
  bool uses_reference() const { return !references_.empty(); }
  /// A reference of this scalar has a non-empty default written in the file (${env:NAME:-default}).
  bool has_written_default() const { return written_default_; }

  /// Masks this value (the whole resolved text and each referenced part, whatever their length) in
  /// everything the process writes from now on. Used for secret keys; a literal has nothing to register.
  /// Maps and lists register every scalar inside them.
  void RegisterAsSecret() const;
  /// For a URL-shaped value: masks the password of user:password@ and the values of the query string
  /// that came from references (how credentials get into URL keys that are not secret as a whole).
  void RegisterUrlCredentials() const;
  /// A URL-shaped value whose user:password@ password was written into the file (no reference in it).
  bool HasLiteralUrlPassword() const;
  const std::vector<Value>& items() const { return items_; }
  const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }
  /// nullptr if absent or not a map.
  const Value* Find(std::string_view key) const;
  std::vector<std::string> Keys() const;
  /// Where `key` itself was written (for "unknown key" messages); the map's location if absent.
  const Location& KeyLocation(std::string_view key) const;

  // Typed reads; errors are Status::Invalid naming location, key path and the expected form.
  Result<std::string> AsString() const;
  Result<int64_t> AsInt() const;
  Result<double> AsDouble() const;
  /// true/false/yes/no/on/off (any case).
  Result<bool> AsBool() const;
  /// "30s", "5m", "2h", "1 day", "7d", "1 week", "500ms", "1h 30m"; a bare number is seconds.
  Result<std::chrono::microseconds> AsDuration() const;
  /// "10GB", "512MiB"; a bare number is bytes.
  Result<uint64_t> AsByteSize() const;
  /// A lone scalar counts as a one-item list.
  Result<std::vector<std::string>> AsStringList() const;
  /// Registers the value as a secret (RegisterAsSecret) and wraps it.
  Result<Secret> AsSecret() const;

  // For optional keys of a map: missing (or null) key -> fallback; present but wrong type -> error.
  Result<std::string> GetString(std::string_view key, std::string fallback) const;
  Result<int64_t> GetInt(std::string_view key, int64_t fallback) const;
  Result<bool> GetBool(std::string_view key, bool fallback) const;
  Result<double> GetDouble(std::string_view key, double fallback) const;
  Result<std::chrono::microseconds> GetDuration(std::string_view key, std::chrono::microseconds fallback) const;
  Result<uint64_t> GetByteSize(std::string_view key, uint64_t fallback) const;

  /// A copy whose path (and its descendants' paths) start at `path` instead of this one's.
  Value WithPath(std::string path) const;

  // Builders, used by tests and by code that synthesises config. Child paths are derived from
  // `path` when the children have none.
  static Value Scalar(std::string text, Location loc = {}, std::string path = "");
  static Value SecretScalar(std::string text, Location loc = {}, std::string path = "");
  static Value Map(std::vector<std::pair<std::string, Value>> entries, Location loc = {}, std::string path = "");
  static Value List(std::vector<Value> items, Location loc = {}, std::string path = "");

 private:
  friend struct internal::ValueAccess;

  /// Where a reference's text landed in scalar_; `from_default` when ${env:NAME:-default} used its default.
  struct ResolvedReference {
    size_t offset = 0;
    size_t length = 0;
    bool from_default = false;
  };

  Kind kind_ = Kind::kNull;
  bool secret_ = false;
  bool written_default_ = false;
  std::vector<ResolvedReference> references_;
  std::shared_ptr<Redactor> redactor_;  // set on scalars with references: where RegisterAsSecret adds them
  Location location_;
  std::string path_;
  std::string scalar_;
  std::vector<Value> items_;
  std::vector<std::pair<std::string, Value>> entries_;
  std::vector<Location> key_locations_;  // parallel to entries_
};

/// Key path of a map entry / list item below `parent` ("a.b", "a[2]").
std::string ChildPath(std::string_view parent, std::string_view key);
std::string ItemPath(std::string_view parent, size_t index);

/// Options of ParseYaml. ${file:PATH} is relative to `base_dir`. Resolved values are not registered with
/// `redactor` right away: the values of secret keys are, when their option table is checked (ValidateOptions)
/// or when they are read with AsSecret(), so that harmless values such as ${env:PORT:-5432} stay readable.
struct ParseOptions {
  std::filesystem::path base_dir;
  std::shared_ptr<Redactor> redactor;
  std::function<std::optional<std::string>(const std::string&)> getenv;  // default: ::getenv
};

/// Parses YAML text into a Value, resolving ${env:NAME}, ${env:NAME:-default} and ${file:PATH}
/// inside any scalar (also embedded: "postgresql://u:${env:PW}@h/db"); "$${" is a literal "${".
/// Unknown reference kinds, missing variables and unreadable files are errors with location and key path.
Result<Value> ParseYaml(std::string_view text, std::string display_file, const ParseOptions& options);
Result<Value> ParseYamlFile(const std::filesystem::path& file, std::string display_file, const ParseOptions& options);

/// `overlay` deep-merged onto `base`: maps merge key by key, lists and scalars replace.
Value MergeOverlay(const Value& base, const Value& overlay);

}  // namespace sluice::config
