#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "config/options.hpp"
#include "config/value.hpp"

namespace sluice::config {

/// Reads the values of a plug-in's options with the defaults of its spec table, so that a default
/// is written once — in the table the docs are generated from — and not again in the parser. A
/// key without a default (other than a string's "") is read with Find(): its absence means something.
/// Reading a key the table does not declare, or with another type than declared, is a bug in the
/// plug-in and answers Status::Internal; a default that does not parse as its type likewise (the
/// option-spec tests parse every registry's defaults, so neither reaches a user).
class OptionReader {
 public:
  /// `map` is the options map (null = none given); `specs` must outlive the reader.
  OptionReader(const Value& map, const std::vector<OptionSpec>& specs) : map_(map), specs_(specs) {}

  /// A reader of `map` once ValidateOptions found nothing wrong with it (unknown keys with a
  /// did-you-mean, types, required keys, secrets); else its errors as one Status (ErrorsToStatus).
  /// `context` as for ValidateOptions, e.g. "window: of job 'x'".
  static Result<OptionReader> Validated(const Value& map, const std::vector<OptionSpec>& specs,
                                        std::string_view context);

  Result<std::string> String(std::string_view key) const;
  Result<int64_t> Int(std::string_view key) const;
  Result<bool> Bool(std::string_view key) const;
  Result<double> Double(std::string_view key) const;
  Result<std::chrono::microseconds> Duration(std::string_view key) const;
  Result<uint64_t> ByteSize(std::string_view key) const;

  /// The value written for `key`, or nullptr: for options whose absence means more than a default.
  const Value* Find(std::string_view key) const { return map_.IsMap() ? map_.Find(key) : nullptr; }

 private:
  /// The spec of `key`, checked to have `type`.
  Result<const OptionSpec*> Spec(std::string_view key, OptionType type) const;
  /// The value to read: the one written, or the spec's default as a scalar.
  Result<Value> ValueOf(std::string_view key, OptionType type) const;

  const Value& map_;
  const std::vector<OptionSpec>& specs_;
};

/// Checks that every spec's default parses as its type (empty = no default); one line per bad one.
std::vector<std::string> InvalidDefaults(const std::vector<OptionSpec>& specs);

}  // namespace sluice::config
