#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/value.hpp"
#include "test_util.hpp"

namespace sluice::config {
namespace {

using testing::FakeEnv;
using ::testing::HasSubstr;
using testing::TempDir;

ParseOptions NoEnv() {
  ParseOptions options;
  options.getenv = FakeEnv({});
  return options;
}

/// "Billion laughs": each level is a list of ten aliases of the level before.
std::string AliasBomb(int levels) {
  std::string text = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int level = 1; level < levels; ++level) {
    std::string alias = fmt::format("*l{}", level - 1);
    text += fmt::format("l{0}: &l{0} [{1}, {1}, {1}, {1}, {1}, {1}, {1}, {1}, {1}, {1}]\n", level, alias);
  }
  return text;
}

TEST(YamlLimitsTest, AliasBombIsRefusedNamingTheFile) {
  // 10^9 values once expanded: conversion used to run until memory ran out.
  auto parsed = ParseYaml(AliasBomb(9), "pipelines/bomb.yaml", NoEnv());
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(), HasSubstr("pipelines/bomb.yaml: expands to more than 200000 values"));
}

TEST(YamlLimitsTest, LongValuesReusedThroughAliasesAreRefusedByTheirExpandedSize) {
  // Few values, many bytes: a 1 MiB scalar used 10,000 times would expand to 10 GiB.
  std::string text = "big: &big " + std::string(1 << 20, 'x') + "\n" + AliasBomb(4);
  text.replace(text.find("l0: &l0 [x, x, x, x, x, x, x, x, x, x]"), 38,
               "l0: &l0 [*big, *big, *big, *big, *big, *big, *big, *big, *big, *big]");
  auto parsed = ParseYaml(text, "pipelines/wide.yaml", NoEnv());
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(),
              HasSubstr("pipelines/wide.yaml: expands to more than 200000 values or 64 MiB"));
  // A long key under a self-referencing alias: each level's path repeats it (the fuzzer found this).
  std::string key(4096, 'k');
  auto paths = ParseYaml("a: &a\n  b: 1\n  " + key + ": [*a, *a]\n", "pipelines/deep.yaml", NoEnv());
  ASSERT_FALSE(paths.ok());
}

TEST(YamlLimitsTest, ModestAliasReuseStillWorks) {
  auto parsed = ParseYaml(AliasBomb(4), "ok.yaml", NoEnv());  // 10^4 values
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->Find("l3")->items().size(), 10u);
  EXPECT_EQ(parsed->Find("l3")->items()[9].items()[9].items()[9].items()[9].scalar(), "x");
}

TEST(YamlLimitsTest, MapMergingItselfIsAnErrorNotAStackOverflow) {
  // `<<: *a` inside the map anchored &a: each merge converted the map again, without end.
  auto parsed = ParseYaml("a: &a\n  b: 1\n  <<: *a\n", "self.yaml", NoEnv());
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("nests deeper than 100 levels"));
}

TEST(YamlLimitsTest, OversizedConfigFileIsRefusedBeforeReading) {
  TempDir dir;
  std::string big = "# padding\n";
  while (big.size() <= (8u << 20)) big += std::string(1023, '#') + "\n";
  auto file = dir.Write("sluice.yaml", big + "name: x\n");
  auto parsed = ParseYamlFile(file, "sluice.yaml", NoEnv());
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("config files are limited to 8 MiB"));
  EXPECT_THAT(parsed.status().message(), HasSubstr("sluice.yaml"));
}

TEST(YamlLimitsTest, DeeplyNestedFlowCollectionsAreAnErrorNotACrash) {
  std::string deep = "a: " + std::string(100'000, '[') + std::string(100'000, ']') + "\n";
  auto parsed = ParseYaml(deep, "deep.yaml", NoEnv());
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("deep.yaml"));
}

}  // namespace
}  // namespace sluice::config
