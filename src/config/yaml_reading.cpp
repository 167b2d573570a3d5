#include "config/value.hpp"

// Reading YAML into Values: the bounded conversion from yaml-cpp's nodes (file:line:col on every
// value) and the resolution of ${env:…} / ${file:…} references.

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

namespace internal {

namespace {

constexpr int kMaxDepth = 100;  // aliases can make a document refer to itself
/// yaml-cpp shares an aliased node, but converting copies it at every use: ten aliases of ten
/// aliases of ... ("billion laughs") would take gigabytes. Real configs stay in the thousands.
constexpr size_t kMaxValues = 200'000;
/// The same copying multiplies bytes: a long scalar or key reused through aliases, and every
/// value's path (which grows with each level). Real configs expand to well under a MiB.
constexpr size_t kMaxExpandedBytes = 64u << 20;
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
    if (++converted_ > kMaxValues || !Spend(path.size())) {
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
        if (!Spend(node.Scalar().size())) {
          too_many_values_ = true;
          return Value();
        }
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
      case YAML::NodeType::Map: return ConvertMap(node, path, fallback, depth);
    }
    return Value();
  }

  std::vector<std::string>& errors() { return errors_; }
  /// Whether conversion stopped because the document expands to more than kMaxValues values or
  /// kMaxExpandedBytes bytes.
  bool too_many_values() const { return too_many_values_; }

 private:
  /// Counts `bytes` more of the expanded document; false once over kMaxExpandedBytes.
  bool Spend(size_t bytes) {
    expanded_bytes_ += bytes;
    return expanded_bytes_ <= kMaxExpandedBytes;
  }

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
  size_t expanded_bytes_ = 0;
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
    return Status::Invalid(
        "{}expands to more than {} values or {} MiB through anchors (&name) and aliases (*name) reused "
        "inside each other; write the repeated parts out, or reuse them fewer times",
        Prefix(Location{display_file, 0, 0}), kMaxValues, kMaxExpandedBytes >> 20);
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
