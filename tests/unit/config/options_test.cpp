#include "config/options.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/option_reader.hpp"
#include "test_util.hpp"

namespace sluice::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::vector<OptionSpec> kSpecs = {
    {"path", OptionType::kStringList, "", true, false, "file or glob"},
    {"header", OptionType::kBool, "true", false, false, "first row names the columns"},
    {"sample_size", OptionType::kInt, "20480", false, false, "rows sampled"},
    {"settle", OptionType::kDuration, "30s", false, false, "quiet time"},
    {"max_size", OptionType::kByteSize, "", false, false, "largest file"},
    {"columns", OptionType::kMap, "", false, false, "types | pinned"},
    {"password", OptionType::kString, "", false, true, "login password"},
};

Value Parse(const std::string& text) {
  ParseOptions options;
  options.getenv = testing::FakeEnv({{"PW", "not-a-number"}});
  auto parsed = ParseYaml(text, "pipelines/p.yaml", options);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : Value();
}

TEST(OptionsTest, AcceptsValidOptions) {
  std::vector<std::string> errors;
  ValidateOptions(Parse("path: a.csv\nheader: no\nsample_size: 10\nsettle: 1m\nmax_size: 1GB\ncolumns: {id: INT}\n"),
                  kSpecs, "source of job 'clean'", &errors);
  EXPECT_THAT(errors, ElementsAre());
}

TEST(OptionsTest, UnknownKeysGetANearestKeyHint) {
  std::vector<std::string> errors;
  ValidateOptions(Parse("path: a.csv\nheadr: true\nzzzzzzzz: 1\n"), kSpecs, "source of job 'clean'", &errors);
  EXPECT_THAT(errors,
              ElementsAre("pipelines/p.yaml:2:1: unknown key 'headr' in source of job 'clean' (did you mean 'header'?)",
                          "pipelines/p.yaml:3:1: unknown key 'zzzzzzzz' in source of job 'clean' (expected one of: "
                          "path, header, sample_size, settle, max_size, columns, password)"));
}

TEST(OptionsTest, MissingRequiredAndWrongTypes) {
  std::vector<std::string> errors;
  ValidateOptions(Parse("header: maybe\nsample_size: many\nsettle: later\nmax_size: huge\ncolumns: [a]\n"
                        "password: [x]\n"),
                  kSpecs, "source of job 'clean'", &errors);
  EXPECT_THAT(errors,
              ElementsAre("pipelines/p.yaml:1:9: invalid value for 'header' in source of job 'clean': must be true or "
                          "false, got 'maybe'",
                          "pipelines/p.yaml:2:14: invalid value for 'sample_size' in source of job 'clean': must be a "
                          "whole number, got 'many'",
                          HasSubstr("pipelines/p.yaml:3:9: invalid value for 'settle'"),
                          HasSubstr("pipelines/p.yaml:4:11: invalid value for 'max_size'"),
                          "pipelines/p.yaml:5:10: invalid value for 'columns' in source of job 'clean': must be a map "
                          "(key: value), got a list",
                          HasSubstr("invalid value for 'password'"),
                          "pipelines/p.yaml:1:1: missing required key 'path' in source of job 'clean' (file or glob)"));
}

TEST(OptionsTest, NullCountsAsEmptyAndNonMapsAreRejected) {
  std::vector<std::string> errors;
  ValidateOptions(Value(), {{"x", OptionType::kString, "", false, false, ""}}, "notify of pipeline 'p'", &errors);
  EXPECT_TRUE(errors.empty());
  ValidateOptions(Value(), kSpecs, "source of job 'a'", &errors);
  EXPECT_THAT(errors, ElementsAre("missing required key 'path' in source of job 'a' (file or glob)"));
  errors.clear();
  ValidateOptions(Value::Scalar("x", Location{"f.yaml", 2, 3}), kSpecs, "source of job 'a'", &errors);
  EXPECT_THAT(errors, ElementsAre("f.yaml:2:3: source of job 'a' must be a map (key: value), got 'x'"));
}

TEST(OptionsTest, SecretValuesAreNotEchoed) {
  std::vector<std::string> errors;
  ValidateOptions(Parse("path: a\nsample_size: ${env:PW}\n"), kSpecs, "source of job 'a'", &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("got '***' (a secret reference)"));
  EXPECT_THAT(errors[0], ::testing::Not(HasSubstr("not-a-number")));
}

TEST(OptionsTest, MarkdownTable) {
  EXPECT_EQ(OptionsMarkdown({kSpecs[0], kSpecs[1], kSpecs[5], kSpecs[6]}),
            "| key | type | default | required | description |\n"
            "| --- | --- | --- | --- | --- |\n"
            "| `path` | string list |  | yes | file or glob |\n"
            "| `header` | bool | `true` |  | first row names the columns |\n"
            "| `columns` | map |  |  | types \\| pinned |\n"
            "| `password` | string |  |  | secret: use `${env:…}` or `${file:…}`. login password |\n");
  EXPECT_STREQ(OptionTypeName(OptionType::kByteSize), "byte size");
}

TEST(OptionsTest, ErrorsFoldIntoOneStatus) {
  EXPECT_TRUE(ErrorsToStatus({}).ok());
  Status one = ErrorsToStatus({"a.yaml:1:1: bad"});
  EXPECT_EQ(one.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(one.message(), "a.yaml:1:1: bad");
  Status many = ErrorsToStatus({"a.yaml:1:1: bad", "a.yaml:2:1: worse", "a.yaml:1:1: bad"});
  EXPECT_EQ(many.message(), "2 configuration errors:\n  a.yaml:1:1: bad\n  a.yaml:2:1: worse");
  EXPECT_FALSE(many.retryable());
}

TEST(OptionReaderTest, KeysLeftOutReadAsTheSpecsDefault) {
  Value given = Parse("header: false\n");
  OptionReader reader(given, kSpecs);
  EXPECT_FALSE(*reader.Bool("header"));
  EXPECT_EQ(*reader.Int("sample_size"), 20480);
  EXPECT_EQ(*reader.Duration("settle"), std::chrono::seconds(30));
  Value none;
  OptionReader defaults(none, kSpecs);
  EXPECT_TRUE(*defaults.Bool("header"));
  EXPECT_EQ(defaults.Find("header"), nullptr);
}

TEST(OptionReaderTest, AValueOfTheWrongFormNamesWhereItIs) {
  Value given = Parse("sample_size: many\n");
  auto read = OptionReader(given, kSpecs).Int("sample_size");
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr("pipelines/p.yaml:1"));
}

TEST(OptionReaderTest, ReadingAnUndeclaredKeyOrAnotherTypeIsABugNotAUserError) {
  Value given = Parse("header: true\n");
  OptionReader reader(given, kSpecs);
  auto undeclared = reader.String("delimiter");
  ASSERT_FALSE(undeclared.ok());
  EXPECT_EQ(undeclared.status().code(), StatusCode::kInternal);
  EXPECT_THAT(undeclared.status().message(), HasSubstr("'delimiter' is read but not declared"));
  auto retyped = reader.String("header");
  ASSERT_FALSE(retyped.ok());
  EXPECT_EQ(retyped.status().code(), StatusCode::kInternal);
  auto no_default = reader.ByteSize("max_size");  // absent, and its absence means "no limit": Find() it
  ASSERT_FALSE(no_default.ok());
  EXPECT_EQ(no_default.status().code(), StatusCode::kInternal);
}

TEST(OptionReaderTest, DefaultsThatDoNotParseAsTheirTypeAreFound) {
  std::vector<OptionSpec> specs = {{"timeout", OptionType::kDuration, "a while", false, false, ""},
                                   {"retries", OptionType::kInt, "3", false, false, ""},
                                   {"quote", OptionType::kString, "the usual", false, false, ""}};
  EXPECT_THAT(InvalidDefaults(specs), ElementsAre(HasSubstr("timeout: default 'a while'")));
}

}  // namespace
}  // namespace sluice::config
