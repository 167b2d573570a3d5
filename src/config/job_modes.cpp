#include "config/job_modes.hpp"

#include <fmt/format.h>

#include <array>
#include <utility>

#include "common/strings.hpp"

namespace sluice::config {
namespace {

template <typename Enum, size_t N>
using Spellings = std::array<std::pair<Enum, const char*>, N>;

// In the order messages list them.
constexpr Spellings<LoadMode, 5> kLoadModes{{
    {LoadMode::kFull, "full"},
    {LoadMode::kIncremental, "incremental"},
    {LoadMode::kWindow, "window"},
    {LoadMode::kChanges, "changes"},
    {LoadMode::kCdc, "cdc"},
}};
constexpr Spellings<WriteMode, 4> kWriteModes{{
    {WriteMode::kAppend, "append"},
    {WriteMode::kOverwrite, "overwrite"},
    {WriteMode::kOverwritePartitions, "overwrite_partitions"},
    {WriteMode::kMerge, "merge"},
}};
constexpr Spellings<OnError, 2> kOnErrors{{
    {OnError::kFail, "fail"},
    {OnError::kQuarantine, "quarantine"},
}};
constexpr Spellings<DeleteHandling, 3> kDeleteHandlings{{
    {DeleteHandling::kIgnore, "ignore"},
    {DeleteHandling::kMark, "mark"},
    {DeleteHandling::kApply, "apply"},
}};
constexpr Spellings<DependencyCondition, 3> kDependencyConditions{{
    {DependencyCondition::kSuccess, "success"},
    {DependencyCondition::kFailure, "failure"},
    {DependencyCondition::kAlways, "always"},
}};

template <typename Enum, size_t N>
const char* Spell(const Spellings<Enum, N>& spellings, Enum value) {
  for (const auto& [candidate, name] : spellings) {
    if (candidate == value) return name;
  }
  return "unknown";  // only for a value cast from outside the enum
}

template <typename Enum, size_t N>
Result<Enum> ParseSpelling(const Spellings<Enum, N>& spellings, std::string_view key, std::string_view text,
                           std::string_view owner) {
  std::vector<std::string> names;
  for (const auto& [value, name] : spellings) {
    if (text == name) return value;
    names.emplace_back(name);
  }
  return Status::Invalid("{}", NotOneOfMessage(key, text, owner, names));
}

}  // namespace

const char* ToString(LoadMode mode) { return Spell(kLoadModes, mode); }
const char* ToString(WriteMode write) { return Spell(kWriteModes, write); }
const char* ToString(OnError on_error) { return Spell(kOnErrors, on_error); }
const char* ToString(DeleteHandling deletes) { return Spell(kDeleteHandlings, deletes); }
const char* ToString(DependencyCondition condition) { return Spell(kDependencyConditions, condition); }

Result<LoadMode> ParseLoadMode(std::string_view text, std::string_view owner) {
  return ParseSpelling(kLoadModes, "mode", text, owner);
}
Result<WriteMode> ParseWriteMode(std::string_view text, std::string_view owner) {
  return ParseSpelling(kWriteModes, "write", text, owner);
}
Result<OnError> ParseOnError(std::string_view text, std::string_view owner) {
  return ParseSpelling(kOnErrors, "on_error", text, owner);
}
Result<DeleteHandling> ParseDeleteHandling(std::string_view text, std::string_view owner) {
  return ParseSpelling(kDeleteHandlings, "deletes", text, owner);
}
Result<DependencyCondition> ParseDependencyCondition(std::string_view text, std::string_view owner) {
  return ParseSpelling(kDependencyConditions, "condition", text, owner);
}

std::string NotOneOfMessage(std::string_view key, std::string_view text, std::string_view owner,
                            const std::vector<std::string>& allowed) {
  return fmt::format("{} '{}' of {} is not one of {}{}", key, text, owner, Join(allowed, ", "),
                     DidYouMean(text, allowed));
}

}  // namespace sluice::config
