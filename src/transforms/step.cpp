#include "transforms/step.hpp"

#include <fmt/format.h>

#include <cctype>
#include <map>

#include "common/strings.hpp"

namespace sluice::transforms {

Status ValidateStepOptions(const config::Value& options, const std::vector<config::OptionSpec>& specs,
                           const std::string& where) {
  std::vector<std::string> errors;
  config::ValidateOptions(options, specs, where, &errors);
  return config::ErrorsToStatus(errors);
}

Result<std::vector<std::unique_ptr<Step>>> BuildSteps(const StepRegistry& registry, const config::Value& steps,
                                                      const std::string& owner) {
  std::vector<std::unique_ptr<Step>> built;
  if (steps.IsNull()) return built;
  std::vector<std::string> errors;
  if (!steps.IsList()) {
    return Status::Invalid("{}: steps of {} must be a list, e.g. steps: [ {{clean: {{names: snake_case}}}} ]",
                           steps.location().ToString(), owner);
  }
  int index = 0;
  for (const auto& item : steps.items()) {
    ++index;
    if (!item.IsMap() || item.entries().size() != 1) {
      errors.push_back(fmt::format("{}: step {} of {} must be one `name: options` pair (steps: {})",
                                   item.location().ToString(), index, owner, Join(registry.Names(), ", ")));
      continue;
    }
    const auto& [name, options] = item.entries().front();
    const StepDescriptor* descriptor = registry.Find(name);
    if (descriptor == nullptr) {
      std::string hint = NearestWord(name, registry.Names());
      errors.push_back(fmt::format("{}: unknown step '{}' in {}{}; available: {}", item.location().ToString(), name,
                                   owner, hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint),
                                   Join(registry.Names(), ", ")));
      continue;
    }
    std::string where = fmt::format("step {} ({}) of {}", index, name, owner);
    auto step = descriptor->create(options, where);
    if (!step.ok()) {
      errors.push_back(step.status().message());
      continue;
    }
    built.push_back(std::move(step).value());
  }
  SLUICE_TRY(config::ErrorsToStatus(errors));
  return built;
}

std::string SnakeCase(std::string_view name) {
  std::string out;
  auto push_separator = [&] {
    if (!out.empty() && out.back() != '_') out.push_back('_');
  };
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    if (std::isalnum(c) == 0) {
      push_separator();
      continue;
    }
    if (std::isupper(c) != 0 && i > 0) {
      unsigned char prev = static_cast<unsigned char>(name[i - 1]);
      bool next_lower = i + 1 < name.size() && std::islower(static_cast<unsigned char>(name[i + 1])) != 0;
      // A word starts at lower->Upper ("gdpPer") and at the last capital of an acronym ("GDPPer").
      if (std::islower(prev) != 0 || std::isdigit(prev) != 0 || (std::isupper(prev) != 0 && next_lower)) {
        push_separator();
      }
    }
    out.push_back(static_cast<char>(std::tolower(c)));
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  if (out.empty()) out = "column";
  if (std::isdigit(static_cast<unsigned char>(out.front())) != 0) out = "_" + out;
  return out;
}

std::string DuckDbType(std::string_view word) {
  static const std::map<std::string, std::string> kWords = {
      {"int", "INTEGER"},         {"integer", "INTEGER"},
      {"bigint", "BIGINT"},       {"long", "BIGINT"},
      {"smallint", "SMALLINT"},   {"float", "FLOAT"},
      {"double", "DOUBLE"},       {"number", "DOUBLE"},
      {"text", "VARCHAR"},        {"string", "VARCHAR"},
      {"varchar", "VARCHAR"},     {"bool", "BOOLEAN"},
      {"boolean", "BOOLEAN"},     {"date", "DATE"},
      {"timestamp", "TIMESTAMP"}, {"timestamptz", "TIMESTAMP WITH TIME ZONE"},
      {"time", "TIME"},
  };
  std::string lower = ToLower(Trim(word));
  auto it = kWords.find(lower);
  if (it != kWords.end()) return it->second;
  std::string upper;
  for (char c : lower) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return upper;
}

}  // namespace sluice::transforms
