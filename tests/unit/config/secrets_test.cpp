// The secret flag of option tables: literals refused, referenced values masked whatever their length,
// harmless defaults left readable; and each environment's catalog.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/options.hpp"
#include "config/project.hpp"
#include "test_util.hpp"

namespace sluice::config {
namespace {

using ::testing::ElementsAre;
using testing::FakeEnv;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TempDir;

const std::vector<OptionSpec> kSpecs = {
    {"url", OptionType::kString, "", false, false, "a URL"},
    {"port", OptionType::kString, "", false, false, "a port"},
    {"password", OptionType::kString, "", false, true, "login password"},
    {"headers", OptionType::kMap, "", false, true, "request headers"},
};

struct Parsed {
  Value value;
  std::shared_ptr<Redactor> redactor = std::make_shared<Redactor>();
};

Parsed Parse(const std::string& text, std::map<std::string, std::string> env = {}) {
  Parsed out;
  ParseOptions options;
  options.redactor = out.redactor;
  options.getenv = FakeEnv(std::move(env));
  auto parsed = ParseYaml(text, "pipelines/p.yaml", options);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (parsed.ok()) out.value = *parsed;
  return out;
}

std::vector<std::string> Validate(const Parsed& parsed) {
  std::vector<std::string> errors;
  ValidateOptions(parsed.value, kSpecs, "source of job 'a'", &errors);
  return errors;
}

/// The `key: value` suggestion after "write " in a message, which must itself be valid YAML.
void ExpectSuggestionParses(const std::string& message, const std::string& marker) {
  size_t at = message.find(marker);
  ASSERT_NE(at, std::string::npos) << message;
  std::string rest = message.substr(at + marker.size());
  std::string snippet = rest.substr(0, rest.find(" (or"));
  auto parsed = ParseYaml(snippet, "snippet", ParseOptions{{}, nullptr, FakeEnv({{"PASSWORD", "x"}})});
  EXPECT_TRUE(parsed.ok()) << "'" << snippet << "': " << parsed.status();
}

TEST(SecretOptionsTest, LiteralSecretIsRefusedWithLocationKeyAndAValidFix) {
  Parsed parsed = Parse("password: hunter2\n");
  auto errors = Validate(parsed);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("pipelines/p.yaml:1:11: 'password' in source of job 'a' is a secret written into "
                                   "the file"));
  EXPECT_THAT(errors[0], HasSubstr("write password: \"${env:PASSWORD}\""));
  EXPECT_THAT(errors[0], Not(HasSubstr("hunter2")));
  ExpectSuggestionParses(errors[0], "write ");
}

TEST(SecretOptionsTest, SecretWithAWrittenDefaultIsRefused) {
  auto errors = Validate(Parse("password: ${env:PW:-devpass}\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("its ${env:NAME:-default} writes a value into the file"));
  EXPECT_THAT(errors[0], Not(HasSubstr("devpass")));
}

TEST(SecretOptionsTest, ReferencedSecretsAreMaskedWhateverTheirLength) {
  Parsed parsed = Parse("password: ${env:PW}\n", {{"PW", "q7z"}});
  EXPECT_EQ(parsed.redactor->Apply("login q7z"), "login q7z");  // not registered by parsing alone
  EXPECT_THAT(Validate(parsed), ElementsAre());
  EXPECT_EQ(parsed.redactor->Apply("login q7z failed"), "login *** failed");
}

TEST(SecretOptionsTest, DefaultsOfOrdinaryKeysStayReadable) {
  Parsed parsed = Parse("port: ${env:PGPORT:-5432}\nurl: http://h:${env:PGPORT:-5432}/x\n");
  EXPECT_FALSE(parsed.value.Find("port")->is_secret());
  EXPECT_TRUE(parsed.value.Find("port")->uses_reference());
  EXPECT_THAT(Validate(parsed), ElementsAre());
  EXPECT_EQ(parsed.redactor->Apply("port 5432"), "port 5432");
}

TEST(SecretOptionsTest, UrlPasswordsMustBeReferencesAndAreMasked) {
  auto errors = Validate(Parse("url: postgresql://etl:pa55word@db:5432/registry\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("pipelines/p.yaml:1:6: 'url' in source of job 'a' has a password written into "
                                   "its URL"));
  EXPECT_THAT(errors[0], Not(HasSubstr("pa55word")));

  Parsed parsed = Parse("url: \"postgresql://etl:${env:PW}@db:${env:PORT}/registry?token=${env:TOK}&format=csv\"\n",
                        {{"PW", "pw9"}, {"PORT", "5432"}, {"TOK", "tk1"}});
  EXPECT_THAT(Validate(parsed), ElementsAre());
  EXPECT_EQ(parsed.redactor->Apply("postgresql://etl:pw9@db:5432/registry?token=tk1&format=csv"),
            "postgresql://etl:***@db:5432/registry?token=***&format=csv");
  // A URL with a user and no password, and text that only looks like one, are fine.
  EXPECT_THAT(Validate(Parse("url: postgresql://etl@db/registry\nport: 'see a:b@c'\n")), ElementsAre());
}

TEST(SecretOptionsTest, CredentialHeadersMustBeReferences) {
  auto errors = Validate(Parse("headers: { Authorization: Bearer abc123, Accept: text/csv }\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("'Authorization' of headers in source of job 'a' is a credential"));
  EXPECT_THAT(errors[0], Not(HasSubstr("abc123")));
  Parsed parsed = Parse("headers: { Authorization: \"Bearer ${env:TOKEN}\", Accept: text/csv }\n", {{"TOKEN", "t0k"}});
  EXPECT_THAT(Validate(parsed), ElementsAre());
  EXPECT_EQ(parsed.redactor->Apply("Authorization: Bearer t0k; Accept: text/csv"),
            "Authorization: ***; Accept: text/csv");
}

TEST(SecretOptionsTest, AsSecretRegistersTheValue) {
  Parsed parsed = Parse("token: ${env:T}\n", {{"T", "zz"}});
  ASSERT_TRUE(parsed.value.Find("token")->AsSecret().ok());
  EXPECT_EQ(parsed.redactor->Apply("zz top"), "*** top");
}

TEST(RedactorTest, ShortSecretsAreMaskedAndMasksAreNotMaskedAgain) {
  Redactor r;
  r.Add("ab");
  r.Add("*");
  r.Add("abcdef");
  r.Add("");
  EXPECT_EQ(r.Apply("abcdef ab xab *"), "*** *** x*** ***");
}

LoadOptions Load(std::string env, std::map<std::string, std::string> vars = {}) {
  LoadOptions options;
  options.env = std::move(env);
  options.redactor = std::make_shared<Redactor>();
  options.getenv = FakeEnv(std::move(vars));
  return options;
}

TEST(SecretOptionsTest, ServerTokenAndS3KeysMustBeReferences) {
  TempDir dir;
  dir.Write("sluice.yaml", "server:\n  token: abc\ns3:\n  secret_access_key: xyz\n");
  auto loaded = LoadProject(dir.path(), Load(""));
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(), HasSubstr("sluice.yaml:2:10: 'token' in server of sluice.yaml is a secret"));
  EXPECT_THAT(loaded.status().message(), HasSubstr("token: \"${env:SERVER_TOKEN}\""));
  EXPECT_THAT(loaded.status().message(), HasSubstr("sluice.yaml:4:22: 'secret_access_key' in s3 of sluice.yaml"));
  EXPECT_THAT(loaded.status().message(), HasSubstr("secret_access_key: \"${env:S3_SECRET_ACCESS_KEY}\""));
}

TEST(EnvironmentCatalogTest, AnEnvironmentWithItsOwnLakeGetsItsOwnCatalog) {
  TempDir dir;
  dir.Write("sluice.yaml", "lake: ./lake\nenvironments:\n  prod:\n    lake: ./lake-prod\n  same:\n    lake: lake\n");
  auto dev = LoadProject(dir.path(), Load(""));
  ASSERT_TRUE(dev.ok()) << dev.status();
  EXPECT_EQ(dev->catalog, (dir.path() / ".sluice/catalog.db").string());
  auto prod = LoadProject(dir.path(), Load("prod"));
  ASSERT_TRUE(prod.ok()) << prod.status();
  EXPECT_EQ(prod->lake, (dir.path() / "lake-prod").string());
  EXPECT_EQ(prod->catalog, (dir.path() / ".sluice/catalog-prod.db").string());
  auto same = LoadProject(dir.path(), Load("same"));  // the same lake: the same catalog describes it
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->catalog, dev->catalog);
}

TEST(EnvironmentCatalogTest, AnExplicitCatalogWinsAndASharedPostgresCatalogIsRefused) {
  TempDir dir;
  dir.Write("sluice.yaml",
            "catalog: meta/cat.db\nenvironments:\n  prod:\n    lake: ./lake-prod\n    catalog: prod.db\n"
            "  stage:\n    lake: ./lake-stage\n");
  auto prod = LoadProject(dir.path(), Load("prod"));
  ASSERT_TRUE(prod.ok()) << prod.status();
  EXPECT_EQ(prod->catalog, (dir.path() / "prod.db").string());
  auto stage = LoadProject(dir.path(), Load("stage"));
  ASSERT_TRUE(stage.ok()) << stage.status();
  EXPECT_EQ(stage->catalog, (dir.path() / "meta/cat-stage.db").string());

  TempDir shared;
  shared.Write("sluice.yaml",
               "catalog: postgresql://sluice@db/sluice\nenvironments:\n  prod:\n    lake: s3://b/prod\n");
  auto refused = LoadProject(shared.path(), Load("prod"));
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("sluice.yaml:3:3: environment 'prod' moves the lake but keeps "
                                                    "the shared catalog"));
  EXPECT_THAT(refused.status().message(), HasSubstr("catalog: \"postgresql://sluice@host/sluice_prod\""));
}

}  // namespace
}  // namespace sluice::config
