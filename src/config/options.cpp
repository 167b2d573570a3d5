#include "config/options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "common/strings.hpp"
#include "config/document.hpp"

namespace sluice::config {

using internal::Prefix;

const char* OptionTypeName(OptionType type) {
  switch (type) {
    case OptionType::kString: return "string";
    case OptionType::kInt: return "int";
    case OptionType::kDouble: return "double";
    case OptionType::kBool: return "bool";
    case OptionType::kDuration: return "duration";
    case OptionType::kByteSize: return "byte size";
    case OptionType::kStringList: return "string list";
    case OptionType::kMap: return "map";
    case OptionType::kList: return "list";
    case OptionType::kAny: return "any";
  }
  return "?";
}

const char* OptionTypeForm(OptionType type) {
  switch (type) {
    case OptionType::kString: return "a text value";
    case OptionType::kInt: return "a whole number";
    case OptionType::kDouble: return "a number";
    case OptionType::kBool: return "true or false";
    case OptionType::kDuration: return "a duration such as 30s, 5m, 2h, 1 day or 500ms (a bare number is seconds)";
    case OptionType::kByteSize: return "a size such as 512MB, 10GB or 1GiB (a bare number is bytes)";
    case OptionType::kStringList: return "a list of text values, e.g. [a, b] (a single value is a one-item list)";
    case OptionType::kMap: return "a map (key: value)";
    case OptionType::kList: return "a list (items starting with '- ')";
    case OptionType::kAny: return "any value";
  }
  return "?";
}

bool MatchesType(const Value& value, OptionType type) {
  switch (type) {
    case OptionType::kString: return value.IsScalar();
    case OptionType::kInt: return value.AsInt().ok();
    case OptionType::kDouble: return value.AsDouble().ok();
    case OptionType::kBool: return value.AsBool().ok();
    case OptionType::kDuration: return value.AsDuration().ok();
    case OptionType::kByteSize: return value.AsByteSize().ok();
    case OptionType::kStringList: return value.AsStringList().ok();
    case OptionType::kMap: return value.IsMap();
    case OptionType::kList: return value.IsList();
    case OptionType::kAny: return true;
  }
  return false;
}

namespace {

std::string Hint(std::string_view key, const std::vector<std::string>& known) {
  std::string nearest = NearestWord(key, known);
  if (!nearest.empty()) return fmt::format(" (did you mean '{}'?)", nearest);
  return fmt::format(" (expected one of: {})", Join(known, ", "));
}

/// An environment variable name to suggest for a secret at `path`: its last two parts, e.g.
/// connections.registry.password -> REGISTRY_PASSWORD, s3.secret_access_key -> S3_SECRET_ACCESS_KEY.
std::string SuggestedEnvName(std::string_view path, std::string_view key) {
  std::vector<std::string> parts;
  std::string part;
  for (char c : path) {
    if (c == '.') {
      parts.push_back(part);
      part.clear();
    } else if (c == '[') {
      break;
    } else {
      part += c;
    }
  }
  if (!part.empty()) parts.push_back(part);
  if (parts.empty()) parts.emplace_back(key);
  std::string joined = parts.size() >= 2 ? parts[parts.size() - 2] + "_" + parts.back() : parts.back();
  std::string name;
  for (char c : joined) {
    name += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                                                        : '_';
  }
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) name = "SECRET_" + name;
  return name;
}

/// "source.url" -> "source.password": where a password next to the value would be.
std::string SiblingPath(const std::string& path, std::string_view key) {
  size_t dot = path.rfind('.');
  return dot == std::string::npos ? std::string(key) : fmt::format("{}.{}", path.substr(0, dot), key);
}

/// Header (or map key) names whose values are credentials: a literal there is refused.
bool IsCredentialName(std::string_view name) {
  std::string lower = ToLower(name);
  for (std::string_view word : {"auth", "token", "key", "secret", "password", "cookie", "session", "signature"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

/// Refuses a secret written into the file (a literal, or a reference's default) and registers the rest.
void CheckSecret(const Value& value, std::string_view key, std::string_view context, std::vector<std::string>* errors) {
  if (value.IsMap()) {  // e.g. http headers: credential-named entries must be references
    for (const auto& [name, entry] : value.entries()) {
      if (!entry.IsScalar() || entry.scalar().empty()) continue;
      if (!entry.uses_reference() && IsCredentialName(name)) {
        errors->push_back(fmt::format(
            "{}'{}' of {} in {} is a credential written into the file; take it from the environment or a file, "
            "e.g. {}: \"Bearer ${{env:{}}}\" (or \"${{file:PATH}}\"), and export that variable",
            Prefix(entry.location()), name, key, context, name, SuggestedEnvName(entry.path(), name)));
      }
    }
    value.RegisterAsSecret();
    return;
  }
  if (!value.IsScalar() || value.scalar().empty()) return;
  std::string env = SuggestedEnvName(value.path(), key);
  if (!value.uses_reference()) {
    errors->push_back(fmt::format(
        "{}'{}' in {} is a secret written into the file; secrets must come from the environment or a file so "
        "they stay out of git, logs and listings: write {}: \"${{env:{}}}\" (or {}: \"${{file:PATH}}\") and "
        "export {}",
        Prefix(value.location()), key, context, key, env, key, env));
    return;
  }
  if (value.has_written_default()) {
    errors->push_back(
        fmt::format("{}'{}' in {} is a secret, but its ${{env:NAME:-default}} writes a value into the file; drop the "
                    "default: {}: \"${{env:{}}}\"",
                    Prefix(value.location()), key, context, key, env));
    return;
  }
  value.RegisterAsSecret();
}

/// A URL of an option that is not secret as a whole: a literal password in it is refused, a password
/// or query value taken from a reference is masked.
void CheckUrl(const Value& value, std::string_view key, std::string_view context, std::vector<std::string>* errors) {
  if (!value.IsScalar()) return;
  if (value.HasLiteralUrlPassword()) {
    errors->push_back(fmt::format(
        "{}'{}' in {} has a password written into its URL; take it from the environment instead, e.g. "
        "{}: \"scheme://user:${{env:{}}}@host/...\" (or a separate password: key where there is one)",
        Prefix(value.location()), key, context, key, SuggestedEnvName(SiblingPath(value.path(), "password"), key)));
    return;
  }
  value.RegisterUrlCredentials();
}

}  // namespace

void ValidateOptions(const Value& map, const std::vector<OptionSpec>& specs, std::string_view context,
                     std::vector<std::string>* errors) {
  if (!map.IsNull() && !map.IsMap()) {
    errors->push_back(fmt::format("{}{} must be {}, got {}", Prefix(map.location()), context,
                                  OptionTypeForm(OptionType::kMap), internal::DescribeFound(map)));
    return;
  }
  std::vector<std::string> known;
  known.reserve(specs.size());
  for (const auto& spec : specs) known.push_back(spec.key);

  for (const auto& [key, value] : map.entries()) {
    auto spec = std::find_if(specs.begin(), specs.end(), [&name = key](const OptionSpec& s) { return s.key == name; });
    if (spec == specs.end()) {
      errors->push_back(
          fmt::format("{}unknown key '{}' in {}{}", Prefix(map.KeyLocation(key)), key, context, Hint(key, known)));
      continue;
    }
    if (!value.IsNull() && spec->secret) CheckSecret(value, key, context, errors);
    if (!value.IsNull() && !spec->secret) CheckUrl(value, key, context, errors);
    if (value.IsNull() || MatchesType(value, spec->type)) continue;
    errors->push_back(fmt::format("{}invalid value for '{}' in {}: must be {}, got {}", Prefix(value.location()), key,
                                  context, OptionTypeForm(spec->type), internal::DescribeFound(value)));
  }
  for (const auto& spec : specs) {
    if (!spec.required) continue;
    const Value* value = map.Find(spec.key);
    if (value != nullptr && !value->IsNull()) continue;
    const Location& where = value != nullptr ? map.KeyLocation(spec.key) : map.location();
    errors->push_back(fmt::format("{}missing required key '{}' in {}{}", Prefix(where), spec.key, context,
                                  spec.description.empty() ? "" : fmt::format(" ({})", spec.description)));
  }
}

namespace {

std::string MarkdownCell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string OptionsMarkdown(const std::vector<OptionSpec>& specs) {
  std::string out = "| key | type | default | required | description |\n| --- | --- | --- | --- | --- |\n";
  for (const auto& spec : specs) {
    std::string description =
        spec.secret ? fmt::format("secret: use `${{env:…}}` or `${{file:…}}`. {}", spec.description) : spec.description;
    out += fmt::format("| `{}` | {} | {} | {} | {} |\n", spec.key, OptionTypeName(spec.type),
                       spec.default_value.empty() ? "" : fmt::format("`{}`", MarkdownCell(spec.default_value)),
                       spec.required ? "yes" : "", MarkdownCell(description));
  }
  return out;
}

Status ErrorsToStatus(const std::vector<std::string>& errors) {
  std::vector<std::string> unique;
  for (const auto& e : errors) {
    if (std::find(unique.begin(), unique.end(), e) == unique.end()) unique.push_back(e);
  }
  if (unique.empty()) return Status::OK();
  if (unique.size() == 1) return Status::Invalid("{}", unique.front());
  return Status::Invalid("{} configuration errors:\n  {}", unique.size(), Join(unique, "\n  "));
}

}  // namespace sluice::config
