#include "config/value.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

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
    case Value::Kind::kNull:
      return "nothing";
    case Value::Kind::kList:
      return "a list";
    case Value::Kind::kMap:
      return "a map";
    case Value::Kind::kScalar:
      break;
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

namespace {

constexpr int kMaxDepth = 100;  // aliases can make a document refer to itself
/// yaml-cpp shares an aliased node, but converting copies it at every use: ten aliases of ten
/// aliases of ... ("billion laughs") would take gigabytes. Real configs stay in the thousands.
constexpr size_t kMaxValues = 200'000;
/// Config files are hand-written; anything larger is a mistake (or an attack), not a config.
constexpr uintmax_t kMaxConfigBytes = 8u << 20;

Location MarkLocation(const YAML::Mark& mark, const std::string& file, const Location& fallback) {
  if (mark.is_null() || mark.line < 0) return fallback;
  return Location{file, mark.line + 1, mark.column + 1};
}

class Converter {
 public:
  explicit Converter(std::string file) : file_(std::move(file)) {}

  /// `fallback` locates values yaml-cpp gives no useful mark (implicit nulls): their key.
  Value Convert(const YAML::Node& node, const std::string& path, const Location& fallback, int depth) {
    if (++converted_ > kMaxValues) {
      too_many_values_ = true;
      return Value();
    }
    if (depth > kMaxDepth) {
      errors_.push_back(fmt::format("{}{} nests deeper than {} levels (a recursive alias?)", Prefix(fallback),
                                    path.empty() ? "the document" : path, kMaxDepth));
      return Value();
    }
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null: {
        Value v;
        ValueAccess::SetLocation(&v, fallback);
        return v.WithPath(path);
      }
      case YAML::NodeType::Scalar:
        return Value::Scalar(node.Scalar(), MarkLocation(node.Mark(), file_, fallback), path);
      case YAML::NodeType::Sequence: {
        Location loc = CollectionLocation(node, fallback);
        std::vector<Value> items;
        size_t index = 0;
        for (const auto& item : node) {
          items.push_back(Convert(item, ItemPath(path, index), loc, depth + 1));
          ++index;
        }
        return Value::List(std::move(items), loc, path);
      }
      case YAML::NodeType::Map:
        return ConvertMap(node, path, fallback, depth);
    }
    return Value();
  }

  std::vector<std::string>& errors() { return errors_; }
  /// Whether conversion stopped because the document expands to more than kMaxValues values.
  bool too_many_values() const { return too_many_values_; }

 private:
  /// A block collection's mark is its first entry, on the line after its key; messages about the
  /// collection as a whole ("missing required key") read better pointing at the key.
  Location CollectionLocation(const YAML::Node& node, const Location& key) const {
    Location loc = MarkLocation(node.Mark(), file_, key);
    if (key.line > 0 && loc.line > key.line) return key;
    return loc;
  }

  Value ConvertMap(const YAML::Node& node, const std::string& path, const Location& fallback, int depth) {
    Location loc = CollectionLocation(node, fallback);
    Value map = Value::Map({}, loc, path);
    auto& entries = ValueAccess::Entries(&map);
    auto& key_locations = ValueAccess::KeyLocations(&map);
    std::vector<std::pair<YAML::Node, Location>> merges;
    for (const auto& kv : node) {
      Location key_loc = MarkLocation(kv.first.Mark(), file_, loc);
      if (!kv.first.IsScalar()) {
        errors_.push_back(fmt::format("{}keys of {} must be plain text, not a list or map", Prefix(key_loc),
                                      path.empty() ? "the document" : path));
        continue;
      }
      const std::string& key = kv.first.Scalar();
      if (key == "<<" && kv.first.Tag() == "?") {  // YAML merge key; yaml-cpp 0.7 leaves it to us
        merges.emplace_back(kv.second, key_loc);
        continue;
      }
      bool duplicate = false;
      for (size_t i = 0; i < entries.size(); ++i) {
        if (entries[i].first != key) continue;
        errors_.push_back(fmt::format("{}duplicate key '{}' in {} (first written at line {}); remove one of them",
                                      Prefix(key_loc), key, path.empty() ? "the document" : path,
                                      key_locations[i].line));
        duplicate = true;
      }
      if (duplicate) continue;
      entries.emplace_back(key, Convert(kv.second, ChildPath(path, key), key_loc, depth + 1));
      key_locations.push_back(key_loc);
    }
    for (const auto& [source, key_loc] : merges) {
      std::vector<YAML::Node> maps;
      if (source.IsMap()) {
        maps.push_back(source);
      } else if (source.IsSequence()) {
        for (const auto& item : source) maps.push_back(item);
      }
      for (const auto& m : maps) {
        if (!m.IsMap()) {
          errors_.push_back(fmt::format("{}'<<' in {} must name a map (<<: *anchor) or a list of maps", Prefix(key_loc),
                                        path.empty() ? "the document" : path));
          continue;
        }
        Value merged = Convert(m, path, key_loc, depth + 1);  // counted and depth-checked: `<<: *self` recurses
        for (size_t i = 0; i < merged.entries().size(); ++i) {
          const auto& [key, child] = merged.entries()[i];
          if (map.Find(key) != nullptr) continue;  // keys written next to '<<' win
          entries.emplace_back(key, child);
          key_locations.push_back(merged.KeyLocation(key));
        }
      }
      if (maps.empty()) {
        errors_.push_back(fmt::format("{}'<<' in {} must name a map (<<: *anchor) or a list of maps", Prefix(key_loc),
                                      path.empty() ? "the document" : path));
      }
    }
    return map;
  }

  std::string file_;
  std::vector<std::string> errors_;
  size_t converted_ = 0;
  bool too_many_values_ = false;
};

bool IsEnvName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

std::string Referrer(const Value& v) { return v.path().empty() ? std::string("the document") : v.path(); }

class Resolver {
 public:
  Resolver(const ParseOptions& options, std::vector<std::string>* errors) : options_(options), errors_(errors) {}

  void Resolve(Value* v) {
    if (v->IsScalar()) {
      ResolveScalar(v);
      return;
    }
    for (auto& item : ValueAccess::Items(v)) Resolve(&item);
    for (auto& entry : ValueAccess::Entries(v)) Resolve(&entry.second);
  }

 private:
  void ResolveScalar(Value* v) {
    const std::string text = v->scalar();
    if (text.find("${") == std::string::npos) return;
    std::string out;
    bool secret = v->is_secret();
    struct Piece {
      size_t offset, length;
      bool from_default;
    };
    std::vector<Piece> pieces;
    bool written_default = false;
    size_t i = 0;
    while (i < text.size()) {
      if (text.compare(i, 3, "$${") == 0) {
        out += "${";
        i += 3;
        continue;
      }
      if (text.compare(i, 2, "${") != 0) {
        out += text[i++];
        continue;
      }
      size_t close = text.find('}', i + 2);
      if (close == std::string::npos) {
        errors_->push_back(
            fmt::format("{}unterminated reference '{}' in {}; close it with '}}' (or write $${{ for a "
                        "literal ${{)",
                        Prefix(v->location()), text.substr(i, 40), Referrer(*v)));
        ValueAccess::AddReference(v, 0, 0, false);  // reported: it is no literal for the secret-key check
        return;
      }
      std::string body = text.substr(i + 2, close - i - 2);
      std::optional<Resolved> value = ResolveReference(*v, body);
      if (!value) {
        ValueAccess::AddReference(v, 0, 0, false);
        return;
      }
      written_default = written_default || value->written_default;
      pieces.push_back({out.size(), value->text.size(), value->from_default});
      out += value->text;
      if (!value->from_default) secret = true;
      i = close + 1;
    }
    ValueAccess::SetScalar(v, std::move(out), secret);
    for (const auto& piece : pieces) ValueAccess::AddReference(v, piece.offset, piece.length, piece.from_default);
    if (written_default) ValueAccess::SetWrittenDefault(v);
    ValueAccess::SetRedactor(v, options_.redactor);
  }

  struct Resolved {
    std::string text;
    bool from_default = false;
    bool written_default = false;  // the reference has a non-empty ${env:NAME:-default}
  };

  std::optional<Resolved> ResolveReference(const Value& v, const std::string& body) {
    size_t colon = body.find(':');
    std::string kind = colon == std::string::npos ? std::string() : body.substr(0, colon);
    std::string rest = colon == std::string::npos ? body : body.substr(colon + 1);
    if (kind == "env") {
      std::string name = rest;
      std::optional<std::string> fallback;
      if (size_t dash = rest.find(":-"); dash != std::string::npos) {
        name = rest.substr(0, dash);
        fallback = rest.substr(dash + 2);
      }
      if (!IsEnvName(name)) {
        errors_->push_back(
            fmt::format("{}'{}' is not a valid environment variable name (in ${{{}}}, referenced by "
                        "{}); use letters, digits and '_'",
                        Prefix(v.location()), name, body, Referrer(v)));
        return std::nullopt;
      }
      std::optional<std::string> value = Lookup(name);
      bool written_default = fallback && !fallback->empty();
      if (fallback && (!value || value->empty())) return Resolved{*fallback, true, written_default};
      if (!value) {
        errors_->push_back(
            fmt::format("{}environment variable '{}' is not set (referenced by {}); export it or use "
                        "${{env:{}:-default}}",
                        Prefix(v.location()), name, Referrer(v), name));
        return std::nullopt;
      }
      return Resolved{*value, false, written_default};
    }
    if (kind == "file") {
      if (rest.empty()) {
        errors_->push_back(
            fmt::format("{}${{file:}} in {} names no file; write ${{file:PATH}}", Prefix(v.location()), Referrer(v)));
        return std::nullopt;
      }
      std::optional<std::string> content = ReadFile(v, rest);
      if (!content) return std::nullopt;
      return Resolved{*content, false, false};
    }
    std::string hint;
    if (kind.empty() && IsEnvName(body)) hint = fmt::format(" (did you mean ${{env:{}}}?)", body);
    errors_->push_back(
        fmt::format("{}unknown reference '${{{}}}' in {}{}; use ${{env:NAME}}, "
                    "${{env:NAME:-default}} or ${{file:PATH}} (write $${{ for a literal ${{)",
                    Prefix(v.location()), body, Referrer(v), hint));
    return std::nullopt;
  }

  std::optional<std::string> Lookup(const std::string& name) const {
    if (options_.getenv) return options_.getenv(name);
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  }

  std::optional<std::string> ReadFile(const Value& v, const std::string& written) {
    fs::path path = fs::path(written).is_absolute() ? fs::path(written) : options_.base_dir / written;
    path = path.lexically_normal();
    std::error_code ec;
    std::string problem;
    if (!fs::exists(path, ec)) {
      problem = "no such file";
    } else if (!fs::is_regular_file(path, ec)) {
      problem = "not a regular file";
    } else {
      std::ifstream in(path, std::ios::binary);
      std::ostringstream content;
      content << in.rdbuf();
      if (in.bad() || !in.is_open()) {
        problem = std::strerror(errno);
      } else {
        std::string text = content.str();
        if (EndsWith(text, "\r\n")) {
          text.resize(text.size() - 2);
        } else if (EndsWith(text, "\n")) {
          text.pop_back();
        }
        return text;
      }
    }
    errors_->push_back(
        fmt::format("{}cannot read file '{}' (referenced by {}): {}; create it or fix the path "
                    "(relative paths start at '{}')",
                    Prefix(v.location()), path.string(), Referrer(v), problem, options_.base_dir.string()));
    return std::nullopt;
  }

  const ParseOptions& options_;
  std::vector<std::string>* errors_;
};

}  // namespace

Result<Value> ParseUnresolved(std::string_view text, const std::string& display_file,
                              std::vector<std::string>* errors) {
  if (text.size() > kMaxConfigBytes) {
    return Status::Invalid("{}is {} bytes; config files are limited to {} MiB", Prefix(Location{display_file, 0, 0}),
                           text.size(), kMaxConfigBytes >> 20);
  }
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    Location loc = MarkLocation(e.mark, display_file, Location{display_file, 0, 0});
    return Status::Invalid("{}invalid YAML: {}; fix the syntax there (indentation, quotes, brackets)", Prefix(loc),
                           e.msg);
  } catch (const std::exception& e) {
    return Status::Invalid("{}cannot parse YAML: {}", Prefix(Location{display_file, 0, 0}), e.what());
  }
  if (documents.size() > 1) {
    return Status::Invalid("{}holds {} YAML documents (separated by ---); sluice reads one per file",
                           Prefix(Location{display_file, 0, 0}), documents.size());
  }
  if (documents.empty()) {
    Value empty;
    ValueAccess::SetLocation(&empty, Location{display_file, 0, 0});
    return empty;
  }
  Converter converter(display_file);
  Value root;
  try {
    root = converter.Convert(documents.front(), "", Location{display_file, 1, 1}, 0);
  } catch (const std::exception& e) {
    return Status::Invalid("{}cannot read YAML: {}", Prefix(Location{display_file, 0, 0}), e.what());
  }
  if (converter.too_many_values()) {
    return Status::Invalid("{}expands to more than {} values through anchors (&name) and aliases (*name) reused "
                           "inside each other; write the repeated parts out, or reuse them fewer times",
                           Prefix(Location{display_file, 0, 0}), kMaxValues);
  }
  errors->insert(errors->end(), converter.errors().begin(), converter.errors().end());
  return root;
}

Result<Value> ParseFileUnresolved(const fs::path& file, const std::string& display_file,
                                  std::vector<std::string>* errors) {
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    return Status::NotFound("config file '{}' does not exist", file.string());
  }
  if (auto size = fs::file_size(file, ec); !ec && size > kMaxConfigBytes) {
    return Status::Invalid("config file '{}' is {} bytes; config files are limited to {} MiB", file.string(), size,
                           kMaxConfigBytes >> 20);
  }
  std::ifstream in(file, std::ios::binary);
  if (!in.is_open()) {
    return Status::IoError("cannot open config file '{}': {}", file.string(), std::strerror(errno));
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return Status::IoError("cannot read config file '{}': {}", file.string(), std::strerror(errno));
  return ParseUnresolved(content.str(), display_file, errors);
}

void ResolveReferences(Value* value, const ParseOptions& options, std::vector<std::string>* errors) {
  Resolver(options, errors).Resolve(value);
}

std::vector<std::string> ApplyEnvironment(Value* doc, const std::string& env, std::string_view owner,
                                          const std::vector<OptionSpec>& keys, bool require_defined,
                                          std::vector<std::string>* errors) {
  std::vector<std::string> names;
  if (!doc->IsMap()) return names;
  auto& entries = ValueAccess::Entries(doc);
  auto& key_locations = ValueAccess::KeyLocations(doc);
  Value section;
  Location section_loc = doc->location();
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].first != "environments") continue;
    section = std::move(entries[i].second);
    section_loc = key_locations[i];
    entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(i));
    key_locations.erase(key_locations.begin() + static_cast<std::ptrdiff_t>(i));
    break;
  }
  if (!section.IsNull() && !section.IsMap()) {
    errors->push_back(
        fmt::format("{}environments in {} must map environment names to overlays, e.g. "
                    "environments: {{ prod: {{ lake: s3://bucket/prod }} }}",
                    Prefix(section_loc), owner));
    return names;
  }
  std::vector<OptionSpec> overlay_keys;
  for (const auto& spec : keys) {
    if (spec.key == "environments") continue;
    overlay_keys.push_back(OptionSpec{spec.key, OptionType::kAny, "", false, false, ""});
  }
  const Value* chosen = nullptr;
  for (const auto& [name, overlay] : section.entries()) {
    names.push_back(name);
    if (overlay.IsNull()) continue;
    if (!overlay.IsMap()) {
      errors->push_back(fmt::format("{}environment '{}' in {} must be a map of keys to override, got {}",
                                    Prefix(section.KeyLocation(name)), name, owner,
                                    overlay.IsList() ? "a list" : "a single value"));
      continue;
    }
    ValidateOptions(overlay, overlay_keys, fmt::format("environment '{}' of {}", name, owner), errors);
    if (name == env) chosen = &overlay;
  }
  bool defined = std::find(names.begin(), names.end(), env) != names.end();
  if (!env.empty() && !defined && require_defined) {
    std::string hint = NearestWord(env, names);
    if (names.empty()) {
      errors->push_back(fmt::format("{}environment '{}' is not defined: {} has no environments: section",
                                    Prefix(Location{doc->location().file, 0, 0}), env, owner));
    } else {
      errors->push_back(fmt::format("{}environment '{}' is not defined in {} (defined: {}){}", Prefix(section_loc), env,
                                    owner, Join(names, ", "),
                                    hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
  }
  if (chosen != nullptr) {
    // Unknown keys of the overlay were reported above; merging them would report them twice.
    std::vector<std::pair<std::string, Value>> known;
    for (const auto& [key, value] : chosen->entries()) {
      bool valid = std::any_of(overlay_keys.begin(), overlay_keys.end(),
                               [&key = key](const OptionSpec& spec) { return spec.key == key; });
      if (valid) known.emplace_back(key, value);
    }
    Value filtered = Value::Map(std::move(known), chosen->location(), chosen->path());
    auto& filtered_key_locations = ValueAccess::KeyLocations(&filtered);
    for (size_t i = 0; i < filtered.entries().size(); ++i) {
      filtered_key_locations[i] = chosen->KeyLocation(filtered.entries()[i].first);
    }
    *doc = MergeOverlay(*doc, filtered.WithPath(doc->path()));
  }
  return names;
}

}  // namespace internal

Result<Value> ParseYaml(std::string_view text, std::string display_file, const ParseOptions& options) {
  std::vector<std::string> errors;
  SLUICE_ASSIGN_OR_RETURN(Value root, internal::ParseUnresolved(text, display_file, &errors));
  internal::ResolveReferences(&root, options, &errors);
  if (!errors.empty()) return ErrorsToStatus(errors);
  return root;
}

Result<Value> ParseYamlFile(const fs::path& file, std::string display_file, const ParseOptions& options) {
  std::vector<std::string> errors;
  SLUICE_ASSIGN_OR_RETURN(Value root, internal::ParseFileUnresolved(file, display_file, &errors));
  internal::ResolveReferences(&root, options, &errors);
  if (!errors.empty()) return ErrorsToStatus(errors);
  return root;
}

}  // namespace sluice::config
