#include "connectors/sql_script.hpp"

#include <gtest/gtest.h>

namespace sluice::connectors {
namespace {

TEST(SqlScriptRegistryTest, BuiltinDatabasesAreExactlyTheseNames) {
  SqlScriptRegistry registry;
  RegisterBuiltinSqlScripts(registry);
  EXPECT_EQ(registry.Names(), (std::vector<std::string>{"postgres"}));
}

}  // namespace
}  // namespace sluice::connectors
