#include "config/option_reader.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace sluice::config {

Result<OptionReader> OptionReader::Validated(const Value& map, const std::vector<OptionSpec>& specs,
                                             std::string_view context) {
  std::vector<std::string> errors;
  ValidateOptions(map, specs, context, &errors);
  SLUICE_TRY(ErrorsToStatus(errors));
  return OptionReader(map, specs);
}

Result<const OptionSpec*> OptionReader::Spec(std::string_view key, OptionType type) const {
  auto spec = std::find_if(specs_.begin(), specs_.end(), [&](const OptionSpec& s) { return s.key == key; });
  if (spec == specs_.end()) {
    return Status::Internal("option '{}' is read but not declared in the plug-in's option table", key);
  }
  if (spec->type != type) {
    return Status::Internal("option '{}' is declared as {} but read as {}", key, OptionTypeName(spec->type),
                            OptionTypeName(type));
  }
  return &*spec;
}

Result<Value> OptionReader::ValueOf(std::string_view key, OptionType type) const {
  SLUICE_ASSIGN_OR_RETURN(const OptionSpec* spec, Spec(key, type));
  if (const Value* given = Find(key); given != nullptr && !given->IsNull()) return *given;
  if (spec->default_value.empty() && type != OptionType::kString) {
    return Status::Internal("option '{}' has no default to read when it is left out; look it up with Find()", key);
  }
  return Value::Scalar(spec->default_value, map_.location(),
                       map_.path().empty() ? spec->key : map_.path() + "." + spec->key);
}

Result<std::string> OptionReader::String(std::string_view key) const {
  SLUICE_ASSIGN_OR_RETURN(Value value, ValueOf(key, OptionType::kString));
  return value.AsString();
}

Result<int64_t> OptionReader::Int(std::string_view key) const {
  SLUICE_ASSIGN_OR_RETURN(Value value, ValueOf(key, OptionType::kInt));
  return value.AsInt();
}

Result<bool> OptionReader::Bool(std::string_view key) const {
  SLUICE_ASSIGN_OR_RETURN(Value value, ValueOf(key, OptionType::kBool));
  return value.AsBool();
}

Result<double> OptionReader::Double(std::string_view key) const {
  SLUICE_ASSIGN_OR_RETURN(Value value, ValueOf(key, OptionType::kDouble));
  return value.AsDouble();
}

Result<std::chrono::microseconds> OptionReader::Duration(std::string_view key) const {
  SLUICE_ASSIGN_OR_RETURN(Value value, ValueOf(key, OptionType::kDuration));
  return value.AsDuration();
}

Result<uint64_t> OptionReader::ByteSize(std::string_view key) const {
  SLUICE_ASSIGN_OR_RETURN(Value value, ValueOf(key, OptionType::kByteSize));
  return value.AsByteSize();
}

std::vector<std::string> InvalidDefaults(const std::vector<OptionSpec>& specs) {
  std::vector<std::string> bad;
  for (const auto& spec : specs) {
    if (spec.default_value.empty()) continue;
    Value value = Value::Scalar(spec.default_value);
    Status parsed;
    switch (spec.type) {
      case OptionType::kInt: parsed = value.AsInt().status(); break;
      case OptionType::kBool: parsed = value.AsBool().status(); break;
      case OptionType::kDouble: parsed = value.AsDouble().status(); break;
      case OptionType::kDuration: parsed = value.AsDuration().status(); break;
      case OptionType::kByteSize: parsed = value.AsByteSize().status(); break;
      default: break;  // text, lists, maps: the default is documentation, read by the plug-in itself
    }
    if (!parsed.ok()) {
      bad.push_back(fmt::format("{}: default '{}' is not {}", spec.key, spec.default_value, OptionTypeForm(spec.type)));
    }
  }
  return bad;
}

}  // namespace sluice::config
