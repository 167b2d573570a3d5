#include "common/json_limits.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sluice {
namespace {

std::string Nested(size_t depth, char open = '[', char close = ']') {
  return std::string(depth, open) + std::string(depth, close);
}

TEST(JsonLimits, RefusesDeepNestingWithoutCrashing) {
  // 100,000 levels used to overflow the stack when the parsed value was copied or dumped.
  auto parsed = ParseJsonBounded(Nested(100'000), "the request body");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("the request body nests JSON deeper than 512 levels"), std::string::npos)
      << parsed.status().message();
  EXPECT_TRUE(ParseJsonOrDiscarded(Nested(100'000)).is_discarded());
}

TEST(JsonLimits, AcceptsNestingUpToTheLimit) {
  auto parsed = ParseJsonBounded(Nested(kMaxJsonDepth), "x");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  nlohmann::json copy = *parsed;  // copies and dumps recurse: fine at this depth
  EXPECT_EQ(copy.dump().size(), 2 * kMaxJsonDepth);
  EXPECT_FALSE(ParseJsonBounded(Nested(kMaxJsonDepth + 1), "x").ok());
}

TEST(JsonLimits, BracketsInsideStringsDoNotCount) {
  std::string deep_string = "{\"a\": \"" + std::string(10'000, '[') + "\\\"{{{\"}";
  auto parsed = ParseJsonBounded(deep_string, "x");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ((*parsed)["a"].get<std::string>().size(), 10'000u + 4);
}

TEST(JsonLimits, ScannerWorksAcrossChunks) {
  JsonDepthScanner scanner(3);
  scanner.Feed("{\"k\": \"[[[[");
  scanner.Feed("\\\"\", \"v\": [[");
  EXPECT_FALSE(scanner.exceeded());
  scanner.Feed("[");
  EXPECT_TRUE(scanner.exceeded());
  EXPECT_EQ(scanner.exceeded_at(), 23u);
}

TEST(JsonLimits, InvalidJsonIsAnErrorNotAnException) {
  auto parsed = ParseJsonBounded("{\"a\": ", "the request body");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("the request body is not valid JSON"), std::string::npos);
  EXPECT_TRUE(ParseJsonOrDiscarded("nope").is_discarded());
}

}  // namespace
}  // namespace sluice
