#include "engine/type_tree.hpp"

#include <algorithm>
#include <cctype>

namespace sluice::engine {

TypeTree::TypeTree() = default;
namespace {

constexpr int kMaxDepth = 64;

std::string_view TrimView(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

bool StartsWithWord(std::string_view text, std::string_view word) {
  if (text.size() <= word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(text[i])) != word[i]) return false;
  }
  return text[word.size()] == '(';
}

/// Splits the inside of "NAME(...)" at its top-level commas (not inside parentheses, brackets or quotes).
Result<std::vector<std::string_view>> SplitTopLevel(std::string_view inside, std::string_view whole) {
  std::vector<std::string_view> parts;
  int depth = 0;
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i < inside.size(); ++i) {
    char c = inside[i];
    if (quoted) {
      if (c == '"') quoted = false;  // a doubled "" reopens on the next character
      continue;
    }
    if (c == '"')
      quoted = true;
    else if (c == '(' || c == '[')
      ++depth;
    else if (c == ')' || c == ']')
      --depth;
    else if (c == ',' && depth == 0) {
      parts.push_back(TrimView(inside.substr(start, i - start)));
      start = i + 1;
    }
    if (depth < 0) return Status::Invalid("type name '{}' has an unbalanced ')' or ']'", whole);
  }
  if (quoted || depth != 0) return Status::Invalid("type name '{}' is not closed", whole);
  parts.push_back(TrimView(inside.substr(start)));
  return parts;
}

/// "name TYPE" or "\"a name\" TYPE" of a struct field.
Result<std::pair<std::string, std::string_view>> SplitField(std::string_view field, std::string_view whole) {
  std::string name;
  size_t i = 0;
  if (!field.empty() && field[0] == '"') {
    for (i = 1; i < field.size(); ++i) {
      if (field[i] != '"') {
        name.push_back(field[i]);
      } else if (i + 1 < field.size() && field[i + 1] == '"') {
        name.push_back('"');
        ++i;
      } else {
        break;
      }
    }
    if (i >= field.size()) return Status::Invalid("type name '{}': a struct field's quoted name is not closed", whole);
    ++i;
  } else {
    while (i < field.size() && !std::isspace(static_cast<unsigned char>(field[i]))) name.push_back(field[i++]);
  }
  std::string_view type = TrimView(field.substr(i));
  if (name.empty() || type.empty()) {
    return Status::Invalid("type name '{}': struct field '{}' needs a name and a type", whole, field);
  }
  return std::make_pair(std::move(name), type);
}

Result<TypeTree> Parse(std::string_view text, std::string_view whole, int depth) {
  if (depth > kMaxDepth) return Status::Invalid("type name '{}' nests deeper than {} levels", whole, kMaxDepth);
  text = TrimView(text);
  if (text.empty()) return Status::Invalid("type name '{}' has an empty type in it", whole);
  TypeTree tree;
  tree.name = std::string(text);
  if (text.back() == ']') {
    size_t open = text.rfind('[');
    if (open == std::string_view::npos || open == 0)
      return Status::Invalid("type name '{}' has an unbalanced ']'", whole);
    std::string_view size = text.substr(open + 1, text.size() - open - 2);
    if (!std::all_of(size.begin(), size.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      return Status::Invalid("type name '{}': '[{}]' is not a list or array suffix", whole, size);
    }
    SLUICE_ASSIGN_OR_RETURN(auto element, Parse(text.substr(0, open), whole, depth + 1));
    tree.kind = TypeTree::Kind::kList;
    tree.children.emplace_back("element", std::move(element));
    return tree;
  }
  bool is_struct = StartsWithWord(text, "STRUCT");
  bool is_map = StartsWithWord(text, "MAP");
  if (!is_struct && !is_map) {
    if (StartsWithWord(text, "UNION")) tree.kind = TypeTree::Kind::kUnsupported;
    return tree;
  }
  size_t open = text.find('(');
  if (text.back() != ')') return Status::Invalid("type name '{}' is not closed", whole);
  SLUICE_ASSIGN_OR_RETURN(auto parts, SplitTopLevel(text.substr(open + 1, text.size() - open - 2), whole));
  if (is_map) {
    if (parts.size() != 2) return Status::Invalid("type name '{}': MAP needs a key and a value type", whole);
    SLUICE_ASSIGN_OR_RETURN(auto key, Parse(parts[0], whole, depth + 1));
    SLUICE_ASSIGN_OR_RETURN(auto value, Parse(parts[1], whole, depth + 1));
    tree.kind = TypeTree::Kind::kMap;
    tree.children.emplace_back("key", std::move(key));
    tree.children.emplace_back("value", std::move(value));
    return tree;
  }
  tree.kind = TypeTree::Kind::kStruct;
  for (auto part : parts) {
    SLUICE_ASSIGN_OR_RETURN(auto field, SplitField(part, whole));
    SLUICE_ASSIGN_OR_RETURN(auto child, Parse(field.second, whole, depth + 1));
    tree.children.emplace_back(std::move(field.first), std::move(child));
  }
  return tree;
}

}  // namespace

Result<TypeTree> ParseTypeName(std::string_view duckdb_type) { return Parse(duckdb_type, duckdb_type, 0); }

int NestedFieldCount(const TypeTree& tree) {
  int count = 0;
  for (const auto& [name, child] : tree.children) count += 1 + NestedFieldCount(child);
  return count;
}

namespace {

void CollectPaths(const TypeTree& tree, const std::string& prefix, std::vector<std::string>* paths) {
  for (const auto& [name, child] : tree.children) {
    std::string path = prefix.empty() ? name : prefix + "/" + name;
    paths->push_back(path);
    CollectPaths(child, path, paths);
  }
}

}  // namespace

std::vector<std::string> NestedFieldPaths(const TypeTree& tree) {
  std::vector<std::string> paths;
  CollectPaths(tree, "", &paths);
  return paths;
}

}  // namespace sluice::engine
