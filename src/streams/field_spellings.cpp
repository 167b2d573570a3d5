// FieldSpellings seeded from a table's schema: apart from record_shape.cpp, which reads records only.

#include "engine/type_tree.hpp"
#include "streams/record_shape.hpp"

namespace sluice::streams {

namespace {

void AddTree(FieldSpellings* spellings, const std::string& folded, const engine::TypeTree& tree) {
  if (tree.kind == engine::TypeTree::Kind::kStruct) {
    for (const auto& [name, child] : tree.children) {
      std::string path = folded + kFieldPathSeparator + FoldFieldName(name);
      if (spellings->Find(path) == nullptr) spellings->Add(path, name);
      AddTree(spellings, path, child);
    }
  } else if (tree.kind == engine::TypeTree::Kind::kList && !tree.children.empty()) {
    AddTree(spellings, folded + kFieldPathSeparator + "[]", tree.children.front().second);
  }
}

}  // namespace

void FieldSpellings::AddColumn(const std::string& name, const std::string& type) {
  std::string path = std::string(1, kFieldPathSeparator) + FoldFieldName(name);
  if (Find(path) == nullptr) Add(path, name);
  auto tree = engine::ParseTypeName(type);
  if (tree.ok()) AddTree(this, path, *tree);
}

}  // namespace sluice::streams
