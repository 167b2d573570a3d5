#include "config/value.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/strings.hpp"
#include "config/document.hpp"
#include "config/options.hpp"

namespace sluice::config {

namespace fs = std::filesystem;
using internal::Prefix;
using internal::ValueAccess;

std::string Location::ToString() const {
  if (line <= 0) return file;
  if (file.empty()) return fmt::format("{}:{}", line, column);
  return fmt::format("{}:{}:{}", file, line, column);
}

std::string ChildPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return fmt::format("{}.{}", parent, key);
}

std::string ItemPath(std::string_view parent, size_t index) { return fmt::format("{}[{}]", parent, index); }

std::string internal::DescribeFound(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull: return "nothing";
    case Value::Kind::kList: return "a list";
    case Value::Kind::kMap: return "a map";
    case Value::Kind::kScalar: break;
  }
  if (v.is_secret()) return fmt::format("'{}' (a secret reference)", Redactor::kMask);
  return fmt::format("'{}'", v.scalar());
}

namespace {

std::string Subject(const Value& v) { return v.path().empty() ? std::string("value") : v.path(); }

Status Expected(const Value& v, std::string_view form) {
  return Status::Invalid("{}{} must be {}, got {}", Prefix(v.location()), Subject(v), form, internal::DescribeFound(v));
}

bool ParseDouble(std::string_view text, double* out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size() && std::isfinite(*out);
}

/// Microseconds per unit, 0 for an unknown unit.
int64_t DurationUnit(std::string_view unit) {
  static const std::vector<std::pair<std::vector<std::string_view>, int64_t>> kUnits = {
      {{"us", "usec", "usecs", "microsecond", "microseconds"}, 1},
      {{"ms", "msec", "msecs", "millisecond", "milliseconds"}, 1'000},
      {{"s", "sec", "secs", "second", "seconds"}, 1'000'000},
      {{"m", "min", "mins", "minute", "minutes"}, 60'000'000},
      {{"h", "hr", "hrs", "hour", "hours"}, 3'600'000'000},
      {{"d", "day", "days"}, 86'400'000'000},
      {{"w", "week", "weeks"}, 604'800'000'000},
  };
  for (const auto& [names, micros] : kUnits) {
    for (auto name : names) {
      if (name == unit) return micros;
    }
  }
  return 0;
}

/// "1h 30m", "1 day", "500ms", "90" (seconds). False on anything else.
bool ParseDuration(std::string_view input, std::chrono::microseconds* out) {
  std::string text = ToLower(Trim(input));
  if (text.empty()) return false;
  double bare = 0;
  if (ParseDouble(text, &bare)) {
    if (bare < 0 || bare > 9.2e12) return false;
    *out = std::chrono::microseconds(static_cast<int64_t>(std::llround(bare * 1e6)));
    return true;
  }
  double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i == text.size()) break;
    size_t number_end = i;
    while (number_end < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[number_end])) || text[number_end] == '.')) {
      ++number_end;
    }
    double number = 0;
    if (!ParseDouble(std::string_view(text).substr(i, number_end - i), &number)) return false;
    i = number_end;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t unit_end = i;
    while (unit_end < text.size() && std::isalpha(static_cast<unsigned char>(text[unit_end]))) ++unit_end;
    int64_t unit = DurationUnit(std::string_view(text).substr(i, unit_end - i));
    if (unit == 0) return false;
    i = unit_end;
    total += number * static_cast<double>(unit);
  }
  if (total > 9.2e18) return false;
  *out = std::chrono::microseconds(static_cast<int64_t>(std::llround(total)));
  return true;
}

}  // namespace

Value::Value() = default;

const Value* Value::Find(std::string_view key) const {
  for (const auto& [k, v] : entries_) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::vector<std::string> Value::Keys() const {
  std::vector<std::string> keys;
  keys.reserve(entries_.size());
  for (const auto& entry : entries_) keys.push_back(entry.first);
  return keys;
}

const Location& Value::KeyLocation(std::string_view key) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].first == key && i < key_locations_.size()) return key_locations_[i];
  }
  return location_;
}

Result<std::string> Value::AsString() const {
  if (!IsScalar()) return Expected(*this, "a text value");
  return scalar_;
}

Result<int64_t> Value::AsInt() const {
  if (IsScalar()) {
    std::string text = Trim(scalar_);
    int64_t out = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (!text.empty() && ec == std::errc() && ptr == text.data() + text.size()) return out;
  }
  return Expected(*this, OptionTypeForm(OptionType::kInt));
}

Result<double> Value::AsDouble() const {
  double out = 0;
  if (IsScalar() && ParseDouble(Trim(scalar_), &out)) return out;
  return Expected(*this, OptionTypeForm(OptionType::kDouble));
}

Result<bool> Value::AsBool() const {
  if (IsScalar()) {
    std::string text = ToLower(Trim(scalar_));
    if (text == "true" || text == "yes" || text == "on") return true;
    if (text == "false" || text == "no" || text == "off") return false;
  }
  return Expected(*this, OptionTypeForm(OptionType::kBool));
}

Result<std::chrono::microseconds> Value::AsDuration() const {
  std::chrono::microseconds out{0};
  if (IsScalar() && ParseDuration(scalar_, &out)) return out;
  return Expected(*this, OptionTypeForm(OptionType::kDuration));
}

Result<uint64_t> Value::AsByteSize() const {
  uint64_t out = 0;
  if (IsScalar() && ParseByteSize(scalar_, &out)) return out;
  return Expected(*this, OptionTypeForm(OptionType::kByteSize));
}

Result<std::vector<std::string>> Value::AsStringList() const {
  if (IsScalar()) return std::vector<std::string>{scalar_};
  if (!IsList()) return Expected(*this, OptionTypeForm(OptionType::kStringList));
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (const auto& item : items_) {
    if (!item.IsScalar()) return Expected(item, "a text value (an item of a list of text values)");
    out.push_back(item.scalar_);
  }
  return out;
}

Result<Secret> Value::AsSecret() const {
  if (!IsScalar()) return Expected(*this, "a text value or a ${env:NAME} / ${file:PATH} reference");
  RegisterAsSecret();
  return Secret(scalar_);
}

void Value::RegisterAsSecret() const {
  for (const auto& item : items_) item.RegisterAsSecret();
  for (const auto& entry : entries_) entry.second.RegisterAsSecret();
  if (!IsScalar() || !redactor_) return;
  redactor_->Add(scalar_);
  for (const auto& reference : references_) redactor_->Add(scalar_.substr(reference.offset, reference.length));
}

namespace {

struct Span {
  size_t begin = 0, end = 0;
  bool empty() const { return begin >= end; }
};

/// The password of scheme://user:password@host… and the values of its query string, as spans of `url`.
struct UrlCredentials {
  Span password;
  std::vector<Span> query_values;
};

std::optional<UrlCredentials> FindUrlCredentials(const std::string& url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos || scheme_end == 0 || !std::isalpha(static_cast<unsigned char>(url[0]))) {
    return std::nullopt;
  }
  for (size_t i = 0; i < scheme_end; ++i) {
    char c = url[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return std::nullopt;
  }
  UrlCredentials found;
  size_t authority = scheme_end + 3;
  size_t authority_end = url.find_first_of("/?#", authority);
  if (authority_end == std::string::npos) authority_end = url.size();
  size_t at = url.rfind('@', authority_end == 0 ? 0 : authority_end - 1);
  if (at != std::string::npos && at >= authority) {
    size_t colon = url.find(':', authority);
    if (colon != std::string::npos && colon < at) found.password = {colon + 1, at};
  }
  size_t query = url.find('?', authority);
  if (query != std::string::npos) {
    size_t query_end = url.find('#', query);
    if (query_end == std::string::npos) query_end = url.size();
    size_t param = query + 1;
    while (param < query_end) {
      size_t param_end = url.find('&', param);
      if (param_end == std::string::npos || param_end > query_end) param_end = query_end;
      size_t equals = url.find('=', param);
      if (equals != std::string::npos && equals < param_end) found.query_values.push_back({equals + 1, param_end});
      param = param_end + 1;
    }
  }
  return found;
}

}  // namespace

void Value::RegisterUrlCredentials() const {
  if (!IsScalar() || !redactor_) return;
  auto credentials = FindUrlCredentials(scalar_);
  if (!credentials) return;
  auto from_reference = [&](const Span& span) {
    return std::any_of(references_.begin(), references_.end(), [&](const ResolvedReference& r) {
      return !r.from_default && r.offset < span.end && span.begin < r.offset + r.length;
    });
  };
  // A password is masked even when it is a default written in the file (it is a password all the same);
  // a query value only when it came from the environment or a file (most are ordinary parameters).
  if (!credentials->password.empty()) {
    const Span& span = credentials->password;
    redactor_->Add(scalar_.substr(span.begin, span.end - span.begin));
  }
  for (const auto& span : credentials->query_values) {
    if (span.empty() || !from_reference(span)) continue;
    redactor_->Add(scalar_.substr(span.begin, span.end - span.begin));
    for (const auto& r : references_) {
      if (!r.from_default && r.offset < span.end && span.begin < r.offset + r.length) {
        redactor_->Add(scalar_.substr(r.offset, r.length));
      }
    }
  }
}

bool Value::HasLiteralUrlPassword() const {
  if (!IsScalar()) return false;
  auto credentials = FindUrlCredentials(scalar_);
  if (!credentials || credentials->password.empty()) return false;
  const Span& password = credentials->password;
  // Environment overlays are checked before references are resolved.
  if (scalar_.substr(password.begin, password.end - password.begin).find("${") != std::string::npos) return false;
  return std::none_of(references_.begin(), references_.end(), [&](const ResolvedReference& r) {
    return r.offset < password.end && password.begin < r.offset + r.length;
  });
}

namespace {

template <typename T, typename Read>
Result<T> GetOr(const Value& map, std::string_view key, T fallback, Read read) {
  if (map.IsNull()) return fallback;
  if (!map.IsMap()) return Expected(map, OptionTypeForm(OptionType::kMap));
  const Value* v = map.Find(key);
  if (v == nullptr || v->IsNull()) return fallback;
  return read(*v);
}

}  // namespace

Result<std::string> Value::GetString(std::string_view key, std::string fallback) const {
  return GetOr<std::string>(*this, key, std::move(fallback), [](const Value& v) { return v.AsString(); });
}

Result<int64_t> Value::GetInt(std::string_view key, int64_t fallback) const {
  return GetOr<int64_t>(*this, key, fallback, [](const Value& v) { return v.AsInt(); });
}

Result<bool> Value::GetBool(std::string_view key, bool fallback) const {
  return GetOr<bool>(*this, key, fallback, [](const Value& v) { return v.AsBool(); });
}

Result<double> Value::GetDouble(std::string_view key, double fallback) const {
  return GetOr<double>(*this, key, fallback, [](const Value& v) { return v.AsDouble(); });
}

Result<std::chrono::microseconds> Value::GetDuration(std::string_view key, std::chrono::microseconds fallback) const {
  return GetOr<std::chrono::microseconds>(*this, key, fallback, [](const Value& v) { return v.AsDuration(); });
}

Result<uint64_t> Value::GetByteSize(std::string_view key, uint64_t fallback) const {
  return GetOr<uint64_t>(*this, key, fallback, [](const Value& v) { return v.AsByteSize(); });
}

Value Value::WithPath(std::string path) const {
  Value out = *this;
  out.path_ = std::move(path);
  for (size_t i = 0; i < out.items_.size(); ++i) out.items_[i] = items_[i].WithPath(ItemPath(out.path_, i));
  for (auto& [key, child] : out.entries_) child = child.WithPath(ChildPath(out.path_, key));
  return out;
}

Value Value::Scalar(std::string text, Location loc, std::string path) {
  Value v;
  v.kind_ = Kind::kScalar;
  v.scalar_ = std::move(text);
  v.location_ = std::move(loc);
  v.path_ = std::move(path);
  return v;
}

Value Value::SecretScalar(std::string text, Location loc, std::string path) {
  Value v = Scalar(std::move(text), std::move(loc), std::move(path));
  v.secret_ = true;
  return v;
}

Value Value::Map(std::vector<std::pair<std::string, Value>> entries, Location loc, std::string path) {
  Value v;
  v.kind_ = Kind::kMap;
  v.location_ = std::move(loc);
  v.path_ = std::move(path);
  for (auto& [key, child] : entries) {
    if (child.path_.empty()) child = child.WithPath(ChildPath(v.path_, key));
    v.key_locations_.push_back(child.location_);
  }
  v.entries_ = std::move(entries);
  return v;
}

Value Value::List(std::vector<Value> items, Location loc, std::string path) {
  Value v;
  v.kind_ = Kind::kList;
  v.location_ = std::move(loc);
  v.path_ = std::move(path);
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].path_.empty()) items[i] = items[i].WithPath(ItemPath(v.path_, i));
  }
  v.items_ = std::move(items);
  return v;
}

Value MergeOverlay(const Value& base, const Value& overlay) {
  if (!base.IsMap() || !overlay.IsMap()) return overlay.WithPath(base.path());
  Value out = base;
  auto& entries = ValueAccess::Entries(&out);
  auto& key_locations = ValueAccess::KeyLocations(&out);
  for (const auto& [key, over] : overlay.entries()) {
    bool found = false;
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].first != key) continue;
      entries[i].second = MergeOverlay(entries[i].second, over);
      if (!entries[i].second.IsMap()) key_locations[i] = overlay.KeyLocation(key);
      found = true;
      break;
    }
    if (!found) {
      entries.emplace_back(key, over.WithPath(ChildPath(base.path(), key)));
      key_locations.push_back(overlay.KeyLocation(key));
    }
  }
  return out;
}

namespace internal {

std::string Prefix(const Location& loc) {
  std::string where = loc.ToString();
  return where.empty() ? where : where + ": ";
}

bool IsPlainName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

}  // namespace internal

}  // namespace sluice::config
