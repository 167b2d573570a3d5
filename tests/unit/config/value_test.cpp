#include "config/value.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace sluice::config {
namespace {

using testing::FakeEnv;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TempDir;

ParseOptions NoEnv() {
  ParseOptions options;
  options.getenv = FakeEnv({});
  return options;
}

Value MustParse(const std::string& text, const ParseOptions& options = NoEnv()) {
  auto parsed = ParseYaml(text, "test.yaml", options);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : Value();
}

std::string ParseError(const std::string& text, const ParseOptions& options = NoEnv()) {
  auto parsed = ParseYaml(text, "test.yaml", options);
  EXPECT_FALSE(parsed.ok());
  return parsed.ok() ? "" : parsed.status().message();
}

TEST(ValueTest, MapsKeepFileOrderLocationsAndKeyPaths) {
  Value v = MustParse("zeta: 1\nalpha:\n  beta: [x, {gamma: y}]\nmid: ~\n");
  ASSERT_TRUE(v.IsMap());
  EXPECT_EQ(v.Keys(), (std::vector<std::string>{"zeta", "alpha", "mid"}));
  const Value* gamma = &v.Find("alpha")->Find("beta")->items()[1].entries()[0].second;
  EXPECT_EQ(gamma->scalar(), "y");
  EXPECT_EQ(gamma->path(), "alpha.beta[1].gamma");
  EXPECT_EQ(gamma->location().ToString(), "test.yaml:3:21");
  EXPECT_EQ(v.KeyLocation("alpha").ToString(), "test.yaml:2:1");
  // An empty value has no mark of its own in yaml-cpp: it points at its key.
  EXPECT_TRUE(v.Find("mid")->IsNull());
  EXPECT_EQ(v.Find("mid")->location().ToString(), "test.yaml:4:1");
  EXPECT_EQ(v.Find("absent"), nullptr);
  EXPECT_EQ(v.Find("zeta")->Find("x"), nullptr);
}

TEST(ValueTest, LocationToString) {
  EXPECT_EQ((Location{"pipelines/x.yaml", 12, 3}).ToString(), "pipelines/x.yaml:12:3");
  EXPECT_EQ((Location{"sluice.yaml", 0, 0}).ToString(), "sluice.yaml");
  EXPECT_EQ(Location{}.ToString(), "");
}

TEST(ValueTest, TypedReads) {
  Value v = MustParse("n: 42\nneg: -7\nd: 2.5\nt: Yes\nf: off\ns: '007'\nlist: [a, b]\none: a\nbad: 4x\n");
  EXPECT_EQ(*v.Find("n")->AsInt(), 42);
  EXPECT_EQ(*v.Find("neg")->AsInt(), -7);
  EXPECT_DOUBLE_EQ(*v.Find("d")->AsDouble(), 2.5);
  EXPECT_TRUE(*v.Find("t")->AsBool());
  EXPECT_FALSE(*v.Find("f")->AsBool());
  EXPECT_EQ(*v.Find("s")->AsString(), "007");
  EXPECT_EQ(*v.Find("s")->AsInt(), 7);
  EXPECT_EQ(*v.Find("list")->AsStringList(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*v.Find("one")->AsStringList(), (std::vector<std::string>{"a"}));

  auto bad = v.Find("bad")->AsInt();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "test.yaml:9:6: bad must be a whole number, got '4x'");
  EXPECT_FALSE(v.Find("d")->AsInt().ok());
  EXPECT_FALSE(v.Find("n")->AsBool().ok());
  EXPECT_FALSE(v.Find("list")->AsString().ok());
  EXPECT_THAT(v.AsString().status().message(), HasSubstr("must be a text value, got a map"));
}

TEST(ValueTest, GettersUseFallbackOnlyWhenKeyIsMissing) {
  Value v = MustParse("port: 8025\ntls: none\nempty:\n");
  EXPECT_EQ(*v.GetInt("port", 25), 8025);
  EXPECT_EQ(*v.GetInt("timeout", 30), 30);
  EXPECT_EQ(*v.GetString("empty", "dflt"), "dflt");
  EXPECT_TRUE(*v.GetBool("verify", true));
  auto wrong = v.GetBool("tls", false);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(), "test.yaml:2:6: tls must be true or false, got 'none'");
  EXPECT_EQ(*Value().GetString("x", "fallback"), "fallback");
  EXPECT_FALSE(v.Find("port")->GetInt("x", 1).ok());  // not a map
}

TEST(ValueTest, Durations) {
  struct Case {
    const char* text;
    int64_t micros;
  };
  for (const Case& c : std::vector<Case>{{"30s", 30'000'000},
                                         {"5m", 300'000'000},
                                         {"2h", 7'200'000'000},
                                         {"1 day", 86'400'000'000},
                                         {"7d", 604'800'000'000},
                                         {"1 week", 604'800'000'000},
                                         {"500ms", 500'000},
                                         {"90", 90'000'000},
                                         {"1.5h", 5'400'000'000},
                                         {"1h 30m", 5'400'000'000},
                                         {"2 Days", 172'800'000'000},
                                         {"250us", 250}}) {
    auto d = Value::Scalar(c.text).AsDuration();
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.status();
    EXPECT_EQ(d->count(), c.micros) << c.text;
  }
  for (const char* bad : {"", "soon", "5 parsecs", "-5s", "5s ten", "s"}) {
    EXPECT_FALSE(Value::Scalar(bad).AsDuration().ok()) << bad;
  }
  auto err = Value::Scalar("fortnight", Location{"p.yaml", 3, 9}, "window.step").AsDuration();
  EXPECT_EQ(err.status().message(),
            "p.yaml:3:9: window.step must be a duration such as 30s, 5m, 2h, 1 day or 500ms (a bare number is "
            "seconds), got 'fortnight'");
}

TEST(ValueTest, ByteSizes) {
  EXPECT_EQ(*Value::Scalar("10GB").AsByteSize(), 10'000'000'000ULL);
  EXPECT_EQ(*Value::Scalar("512MiB").AsByteSize(), 512ULL << 20);
  EXPECT_EQ(*Value::Scalar("4096").AsByteSize(), 4096ULL);
  EXPECT_FALSE(Value::Scalar("lots").AsByteSize().ok());
  EXPECT_FALSE(Value::Scalar("10 parsecs").AsByteSize().ok());
}

TEST(ValueTest, EnvReferencesResolveAndRegisterSecrets) {
  ParseOptions options;
  options.redactor = std::make_shared<Redactor>();
  options.getenv = FakeEnv({{"PW", "hunter22"}, {"EMPTY", ""}});
  Value v = MustParse(
      "url: postgresql://u:${env:PW}@h/db\n"
      "plain: hello\n"
      "dflt: ${env:UNSET:-fallback-value}\n"
      "empty_dflt: ${env:EMPTY:-used-when-empty}\n"
      "literal: cost $${HOME} and $5\n",
      options);
  EXPECT_EQ(v.Find("url")->scalar(), "postgresql://u:hunter22@h/db");
  EXPECT_TRUE(v.Find("url")->is_secret());
  EXPECT_FALSE(v.Find("plain")->is_secret());
  EXPECT_EQ(v.Find("dflt")->scalar(), "fallback-value");
  EXPECT_EQ(v.Find("empty_dflt")->scalar(), "used-when-empty");
  EXPECT_EQ(v.Find("literal")->scalar(), "cost ${HOME} and $5");
  EXPECT_FALSE(v.Find("literal")->is_secret());
  // Parsing registers nothing; reading a value as a secret (or checking a secret key) does.
  EXPECT_EQ(options.redactor->Apply("connect with hunter22 now"), "connect with hunter22 now");
  EXPECT_EQ(v.Find("url")->AsSecret()->Reveal(), "postgresql://u:hunter22@h/db");
  EXPECT_EQ(options.redactor->Apply("connect with hunter22 now"), "connect with *** now");
  EXPECT_FALSE(v.Find("dflt")->is_secret());  // only its default was used
  EXPECT_TRUE(v.Find("dflt")->has_written_default());
  // Messages about a secret value never echo it.
  auto as_int = v.Find("url")->AsInt();
  ASSERT_FALSE(as_int.ok());
  EXPECT_THAT(as_int.status().message(), Not(HasSubstr("hunter22")));
  EXPECT_THAT(as_int.status().message(), HasSubstr("'***'"));
}

TEST(ValueTest, MissingEnvVarNamesLineColumnAndKeyPath) {
  std::string text = "connections:\n  registry:\n    type: postgres\n    password: ${env:REGISTRY_PASSWORD}\n";
  auto parsed = ParseYaml(text, "sluice.yaml", NoEnv());
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(),
            "sluice.yaml:4:15: environment variable 'REGISTRY_PASSWORD' is not set (referenced by "
            "connections.registry.password); export it or use ${env:REGISTRY_PASSWORD:-default}");
}

TEST(ValueTest, AllReferenceErrorsAreCollected) {
  std::string message = ParseError("a: ${env:ONE}\nb: ${vault:x}\nc: ${TWO}\nd: ${env:THREE\ne: ${env:9x}\n");
  EXPECT_THAT(message, HasSubstr("5 configuration errors:"));
  EXPECT_THAT(message, HasSubstr("test.yaml:1:4: environment variable 'ONE' is not set"));
  EXPECT_THAT(message, HasSubstr("test.yaml:2:4: unknown reference '${vault:x}' in b; use ${env:NAME}"));
  EXPECT_THAT(message, HasSubstr("unknown reference '${TWO}' in c (did you mean ${env:TWO}?)"));
  EXPECT_THAT(message, HasSubstr("test.yaml:4:4: unterminated reference"));
  EXPECT_THAT(message, HasSubstr("'9x' is not a valid environment variable name"));
}

TEST(ValueTest, FileReferencesAreRelativeToBaseDirAndDropTrailingNewline) {
  TempDir dir;
  dir.Write("secrets/token", "s3cr3t-token\n");
  ParseOptions options = NoEnv();
  options.base_dir = dir.path();
  options.redactor = std::make_shared<Redactor>();
  Value v = MustParse("token: ${file:secrets/token}\nheader: 'Bearer ${file:secrets/token}'\n", options);
  EXPECT_EQ(v.Find("token")->scalar(), "s3cr3t-token");
  EXPECT_EQ(v.Find("header")->scalar(), "Bearer s3cr3t-token");
  EXPECT_TRUE(v.Find("token")->is_secret());
  v.Find("token")->RegisterAsSecret();
  EXPECT_EQ(options.redactor->Apply("token=s3cr3t-token"), "token=***");

  std::string message = ParseError("server:\n  token: ${file:secrets/missing}\n", options);
  EXPECT_THAT(message, HasSubstr("test.yaml:2:10: cannot read file '"));
  EXPECT_THAT(message, HasSubstr("secrets/missing' (referenced by server.token): no such file"));
}

TEST(ValueTest, SyntaxErrorsCarryLineAndColumn) {
  std::string message = ParseError("a: 1\nb: [1, 2\nc: 3\n");
  EXPECT_THAT(message, HasSubstr("test.yaml:"));
  EXPECT_THAT(message, HasSubstr("invalid YAML"));
  EXPECT_THAT(ParseError("a: 1\n---\nb: 2\n"), HasSubstr("holds 2 YAML documents"));
}

TEST(ValueTest, DuplicateKeysAreErrors) {
  EXPECT_EQ(ParseError("a: 1\nb: 2\na: 3\n"),
            "test.yaml:3:1: duplicate key 'a' in the document (first written at line 1); remove one of them");
}

TEST(ValueTest, MergeKeysCopyAnchoredMaps) {
  Value v = MustParse(
      "base: &base {format: csv, header: true}\n"
      "job:\n"
      "  <<: *base\n"
      "  header: false\n");
  const Value* job = v.Find("job");
  EXPECT_EQ(job->Keys(), (std::vector<std::string>{"header", "format"}));
  EXPECT_EQ(job->Find("header")->scalar(), "false");
  EXPECT_EQ(job->Find("format")->scalar(), "csv");
  EXPECT_EQ(job->Find("format")->path(), "job.format");
}

TEST(ValueTest, MergeOverlayMergesMapsAndReplacesListsAndScalars) {
  Value base = MustParse("lake: ./lake\ns3: {region: eu, path_style: true}\nlist: [a, b]\n");
  Value overlay = MustParse("lake: s3://b/p\ns3: {region: us}\nlist: [c]\nnew: 1\n");
  Value merged = MergeOverlay(base, overlay);
  EXPECT_EQ(merged.Keys(), (std::vector<std::string>{"lake", "s3", "list", "new"}));
  EXPECT_EQ(merged.Find("lake")->scalar(), "s3://b/p");
  EXPECT_EQ(merged.Find("s3")->Find("region")->scalar(), "us");
  EXPECT_EQ(merged.Find("s3")->Find("path_style")->scalar(), "true");
  EXPECT_EQ(*merged.Find("list")->AsStringList(), (std::vector<std::string>{"c"}));
}

TEST(ValueTest, BuildersDeriveChildPaths) {
  Value v = Value::Map(
      {{"target", Value::Map({{"zone", Value::Scalar("raw")}})}, {"keys", Value::List({Value::Scalar("id")})}}, {},
      "jobs.clean");
  EXPECT_EQ(v.Find("target")->Find("zone")->path(), "jobs.clean.target.zone");
  EXPECT_EQ(v.Find("keys")->items()[0].path(), "jobs.clean.keys[0]");
  EXPECT_EQ(v.WithPath("x").Find("target")->Find("zone")->path(), "x.target.zone");
}

}  // namespace
}  // namespace sluice::config
