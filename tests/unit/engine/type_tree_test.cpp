#include "engine/type_tree.hpp"

#include <gtest/gtest.h>

#include "engine/engine.hpp"

namespace sluice::engine {
namespace {

TEST(TypeTreeTest, PrimitivesHaveNoNestedFields) {
  for (const char* name : {"BIGINT", "DECIMAL(18,2)", "TIMESTAMP WITH TIME ZONE", "VARCHAR"}) {
    auto tree = ParseTypeName(name);
    ASSERT_TRUE(tree.ok()) << tree.status();
    EXPECT_EQ(tree->kind, TypeTree::Kind::kPrimitive);
    EXPECT_EQ(tree->name, name);
    EXPECT_EQ(NestedFieldCount(*tree), 0);
  }
}

TEST(TypeTreeTest, StructsListsAndMapsNest) {
  auto tree =
      ParseTypeName(R"(STRUCT(a INTEGER, "b, ""c""" DECIMAL(10,2), tags VARCHAR[], m MAP(VARCHAR, DOUBLE[3]))[])");
  ASSERT_TRUE(tree.ok()) << tree.status();
  ASSERT_EQ(tree->kind, TypeTree::Kind::kList);
  const TypeTree& row = tree->children.at(0).second;
  EXPECT_EQ(tree->children.at(0).first, "element");
  ASSERT_EQ(row.kind, TypeTree::Kind::kStruct);
  ASSERT_EQ(row.children.size(), 4u);
  EXPECT_EQ(row.children[0].first, "a");
  EXPECT_EQ(row.children[1].first, "b, \"c\"");
  EXPECT_EQ(row.children[1].second.name, "DECIMAL(10,2)");
  EXPECT_EQ(row.children[2].second.kind, TypeTree::Kind::kList);
  const TypeTree& map = row.children[3].second;
  ASSERT_EQ(map.kind, TypeTree::Kind::kMap);
  EXPECT_EQ(map.children[0].first, "key");
  EXPECT_EQ(map.children[1].first, "value");
  EXPECT_EQ(map.children[1].second.kind, TypeTree::Kind::kList);
  // element(1) + a, b, tags, m (4) + tags.element (1) + m.key, m.value (2) + m.value.element (1)
  EXPECT_EQ(NestedFieldCount(*tree), 9);
  std::vector<std::string> paths = {
      "element",   "element/a",     "element/b, \"c\"", "element/tags",           "element/tags/element",
      "element/m", "element/m/key", "element/m/value",  "element/m/value/element"};
  EXPECT_EQ(NestedFieldPaths(*tree), paths);
}

TEST(TypeTreeTest, UnionIsUnsupportedAndBrokenNamesAreErrors) {
  auto tree = ParseTypeName("UNION(num INTEGER, str VARCHAR)");
  ASSERT_TRUE(tree.ok()) << tree.status();
  EXPECT_EQ(tree->kind, TypeTree::Kind::kUnsupported);
  for (const char* bad : {"", "STRUCT(a INTEGER", "MAP(VARCHAR)", "INTEGER[x]", "STRUCT(a)", "STRUCT(\"a INTEGER)"}) {
    EXPECT_FALSE(ParseTypeName(bad).ok()) << bad;
  }
}

TEST(TypeTreeTest, ParsesEveryNestedTypeNameDuckDbPrints) {
  auto db = Database::Open({});
  ASSERT_TRUE(db.ok()) << db.status();
  auto conn = (*db)->Connect();
  ASSERT_TRUE(conn.ok()) << conn.status();
  auto columns = (*conn)->Describe(
      "SELECT {'x': 1, 'y y': [1.5]} AS s, [{'k': 'a'}] AS l, MAP {'a': [1]} AS m, [1, 2]::INTEGER[2] AS fixed");
  ASSERT_TRUE(columns.ok()) << columns.status();
  std::vector<int> expected = {3, 2, 3, 1};  // s: x, y y, y y.element; l: element, k; m: key, value, element
  ASSERT_EQ(columns->size(), expected.size());
  for (size_t i = 0; i < columns->size(); ++i) {
    auto tree = ParseTypeName((*columns)[i].type);
    ASSERT_TRUE(tree.ok()) << (*columns)[i].type << ": " << tree.status();
    EXPECT_EQ(NestedFieldCount(*tree), expected[i]) << (*columns)[i].type;
  }
}

}  // namespace
}  // namespace sluice::engine
