#include "config/project.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_examples.hpp"
#include "test_util.hpp"

namespace sluice::config {
namespace {

using testing::FakeEnv;
using ::testing::HasSubstr;
using testing::kSluiceYaml;
using ::testing::Not;
using testing::TempDir;

const std::map<std::string, std::string> kExampleEnv = {
    {"AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY"},
    {"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI-example"},
    {"REGISTRY_PASSWORD", "registry-pw-123"},
    {"SLUICE_TOKEN", "token-abcdef"},
};

LoadOptions Options(std::string env = "", std::map<std::string, std::string> vars = kExampleEnv) {
  LoadOptions options;
  options.env = std::move(env);
  options.redactor = std::make_shared<Redactor>();
  options.getenv = FakeEnv(std::move(vars));
  return options;
}

std::string LoadError(const TempDir& dir, const LoadOptions& options) {
  auto loaded = LoadProject(dir.path(), options);
  EXPECT_FALSE(loaded.ok());
  return loaded.ok() ? "" : loaded.status().message();
}

TEST(ProjectTest, ContractExampleLoadsAsWritten) {
  TempDir dir;
  dir.Write("sluice.yaml", kSluiceYaml);
  LoadOptions options = Options();
  auto loaded = LoadProject(dir.path(), options);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const ProjectConfig& p = *loaded;
  EXPECT_EQ(p.root, dir.path());
  EXPECT_EQ(p.file, dir.path() / "sluice.yaml");
  EXPECT_EQ(p.project, "acme");
  EXPECT_EQ(p.lake, (dir.path() / "lake").string());
  EXPECT_EQ(p.catalog, (dir.path() / ".sluice/catalog.db").string());
  EXPECT_EQ(p.env, "");
  EXPECT_EQ(p.environments, (std::vector<std::string>{"prod"}));
  EXPECT_EQ(p.s3.Find("endpoint")->scalar(), "http://127.0.0.1:4568");
  EXPECT_EQ(p.s3.Find("secret_access_key")->scalar(), "wJalrXUtnFEMI-example");
  EXPECT_TRUE(p.s3.Find("secret_access_key")->is_secret());
  EXPECT_TRUE(*p.s3.GetBool("path_style", false));
  EXPECT_EQ(p.connections.Keys(), (std::vector<std::string>{"registry"}));
  EXPECT_EQ(p.connections.Find("registry")->Find("password")->AsSecret()->Reveal(), "registry-pw-123");
  EXPECT_EQ(p.notifications.Keys(), (std::vector<std::string>{"ops-mail", "ops-hook"}));
  EXPECT_EQ(*p.notifications.Find("ops-mail")->Find("smtp")->GetInt("port", 25), 8025);
  EXPECT_EQ(p.server.Find("token")->scalar(), "token-abcdef");
  EXPECT_EQ(*p.query.Find("max_bytes_scanned")->AsByteSize(), 10'000'000'000ULL);
  EXPECT_TRUE(p.engine.IsNull());
  EXPECT_TRUE(p.defaults.IsNull());
  EXPECT_EQ(p.raw.Find("environments"), nullptr);
  EXPECT_EQ(p.connections.Find("registry")->Find("password")->location().ToString(), "sluice.yaml:14:15");
  // Every resolved reference is masked from now on.
  EXPECT_EQ(options.redactor->Apply("pw=registry-pw-123 token=token-abcdef key=AKIAEXAMPLEKEY"),
            "pw=*** token=*** key=***");
}

TEST(ProjectTest, EnvironmentOverlayReplacesKeys) {
  TempDir dir;
  dir.Write("sluice.yaml", kSluiceYaml);
  auto loaded = LoadProject(dir.path() / "sluice.yaml", Options("prod"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->env, "prod");
  EXPECT_EQ(loaded->lake, "s3://acme-lake/prod");
  EXPECT_EQ(loaded->catalog, "postgresql://sluice@meta.internal/sluice");
  EXPECT_EQ(loaded->raw.Find("lake")->location().ToString(), "sluice.yaml:32:11");
  EXPECT_EQ(loaded->raw.Find("lake")->path(), "lake");
  EXPECT_EQ(loaded->s3.Find("region")->scalar(), "us-east-1");  // untouched keys stay
}

TEST(ProjectTest, OverlayMergesMapsDeeplyAndOnlyResolvesTheActiveEnvironment) {
  TempDir dir;
  dir.Write("sluice.yaml",
            "project: p\n"
            "s3: { region: eu-west-1, path_style: true }\n"
            "environments:\n"
            "  staging:\n"
            "    s3: { region: eu-central-1 }\n"
            "  prod:\n"
            "    s3:\n"
            "      secret_access_key: ${env:PROD_ONLY_SECRET}\n");
  auto staging = LoadProject(dir.path(), Options("staging", {}));
  ASSERT_TRUE(staging.ok()) << staging.status();  // PROD_ONLY_SECRET is not needed for staging
  EXPECT_EQ(staging->s3.Find("region")->scalar(), "eu-central-1");
  EXPECT_EQ(staging->s3.Find("path_style")->scalar(), "true");
  EXPECT_EQ(staging->environments, (std::vector<std::string>{"staging", "prod"}));

  EXPECT_EQ(LoadError(dir, Options("prod", {})),
            "sluice.yaml:8:26: environment variable 'PROD_ONLY_SECRET' is not set (referenced by "
            "s3.secret_access_key); export it or use ${env:PROD_ONLY_SECRET:-default}");
}

TEST(ProjectTest, UnknownKeysOfEveryEnvironmentAreReportedOnce) {
  TempDir dir;
  dir.Write("sluice.yaml",
            "environments:\n"
            "  prod:\n"
            "    lak: s3://b/p\n"
            "  dev:\n"
            "    catalgo: dev.db\n");
  EXPECT_EQ(LoadError(dir, Options("prod")),
            "2 configuration errors:\n"
            "  sluice.yaml:3:5: unknown key 'lak' in environment 'prod' of sluice.yaml (did you mean 'lake'?)\n"
            "  sluice.yaml:5:5: unknown key 'catalgo' in environment 'dev' of sluice.yaml (did you mean 'catalog'?)");
}

TEST(ProjectTest, UnknownEnvironmentListsTheDefinedOnes) {
  TempDir dir;
  dir.Write("sluice.yaml", kSluiceYaml);
  EXPECT_EQ(LoadError(dir, Options("prd")),
            "sluice.yaml:30:1: environment 'prd' is not defined in sluice.yaml (defined: prod) (did you mean "
            "'prod'?)");
  TempDir bare;
  bare.Write("sluice.yaml", "project: p\n");
  EXPECT_EQ(LoadError(bare, Options("prod")),
            "sluice.yaml: environment 'prod' is not defined: sluice.yaml has no environments: section");
}

TEST(ProjectTest, AnUnsetVariableOfAConnectionIsReportedWhenTheConnectionIsUsed) {
  TempDir dir;
  dir.Write("sluice.yaml", kSluiceYaml);
  auto vars = kExampleEnv;
  vars.erase("REGISTRY_PASSWORD");
  auto loaded = LoadProject(dir.path(), Options("", vars));
  ASSERT_TRUE(loaded.ok()) << loaded.status();  // commands not using the registry need no password
  EXPECT_EQ(loaded->unresolved.size(), 1u);
  EXPECT_TRUE(loaded->CheckResolved("server", "sluice serve").ok());
  Status used = loaded->CheckResolved("connections.registry", "source of job 'a'");
  ASSERT_FALSE(used.ok());
  EXPECT_EQ(used.message(),
            "sluice.yaml:14:15: environment variable 'REGISTRY_PASSWORD' is not set (referenced by "
            "connections.registry.password); export it or use ${env:REGISTRY_PASSWORD:-default} (source of job 'a' "
            "needs connections.registry)");
}

TEST(ProjectTest, AnUnsetVariableEveryCommandNeedsFailsTheLoad) {
  TempDir dir;
  dir.Write("sluice.yaml", "lake: ${env:LAKE_DIR}\nserver: { token: \"${env:API_TOKEN}\" }\n");
  std::string message = LoadError(dir, Options("", {}));
  EXPECT_THAT(message, HasSubstr("environment variable 'LAKE_DIR' is not set (referenced by lake)"));
  EXPECT_THAT(message, Not(HasSubstr("API_TOKEN")));  // server: is deferred to the commands serving the API
}

TEST(ProjectTest, TyposGetNearestKeyHintsAndAllErrorsAreCollected) {
  TempDir dir;
  dir.Write("sluice.yaml",
            "project: p\n"
            "lakee: ./lake\n"
            "s3:\n"
            "  regoin: us-east-1\n"
            "  path_style: sometimes\n"
            "connections:\n"
            "  registry:\n"
            "    url: postgresql://h/db\n"
            "  bad: postgres\n"
            "notifications:\n"
            "  'ops mail': { type: email }\n");
  std::string message = LoadError(dir, Options());
  EXPECT_THAT(message, HasSubstr("6 configuration errors:"));
  EXPECT_THAT(message, HasSubstr("sluice.yaml:2:1: unknown key 'lakee' in sluice.yaml (did you mean 'lake'?)"));
  EXPECT_THAT(message, HasSubstr("sluice.yaml:4:3: unknown key 'regoin' in s3 of sluice.yaml (did you mean "
                                 "'region'?)"));
  EXPECT_THAT(message, HasSubstr("sluice.yaml:5:15: invalid value for 'path_style' in s3 of sluice.yaml: must be "
                                 "true or false, got 'sometimes'"));
  EXPECT_THAT(message, HasSubstr("sluice.yaml:7:3: connections.registry needs a type:"));
  EXPECT_THAT(message, HasSubstr("sluice.yaml:9:3: connections.bad must be a map with a type:"));
  EXPECT_THAT(message, HasSubstr("sluice.yaml:11:3: notifications name 'ops mail' may only use"));
}

TEST(ProjectTest, DefaultsAndPaths) {
  TempDir dir;
  dir.Write("sluice.yaml", "lake: data/../warehouse\ncatalog: /var/lib/sluice/catalog.db\n");
  auto loaded = LoadProject(dir.path(), Options());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->project, dir.path().filename().string());
  EXPECT_EQ(loaded->lake, (dir.path() / "warehouse").string());
  EXPECT_EQ(loaded->catalog, "/var/lib/sluice/catalog.db");
  EXPECT_EQ(ResolveProjectPath(*loaded, "incoming/a.csv"), dir.path() / "incoming/a.csv");

  TempDir empty;
  empty.Write("sluice.yaml", "");
  auto defaults = LoadProject(empty.path(), Options());
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->lake, (empty.path() / "lake").string());
  EXPECT_EQ(defaults->catalog, (empty.path() / ".sluice/catalog.db").string());
}

TEST(ProjectTest, RejectsUnsupportedStoresAndMissingFiles) {
  TempDir dir;
  dir.Write("sluice.yaml", "lake: gs://bucket/x\ncatalog: mysql://h/db\n");
  std::string message = LoadError(dir, Options());
  EXPECT_THAT(message, HasSubstr("sluice.yaml:1:7: lake 'gs://bucket/x' is neither a local folder nor s3://"));
  EXPECT_THAT(message, HasSubstr("sluice.yaml:2:10: catalog 'mysql://h/db' is neither a SQLite file nor "
                                 "postgresql://"));

  TempDir nothing;
  auto missing = LoadProject(nothing.path(), Options());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("sluice init"));
}

TEST(ProjectTest, EngineKeysAreCheckedWithAHint) {
  TempDir dir;
  dir.Write("sluice.yaml", "engine: { memry_limit: 4GB, threads: many }\n");
  std::string message = LoadError(dir, Options());
  EXPECT_THAT(message, HasSubstr("'memry_limit'"));
  EXPECT_THAT(message, HasSubstr("did you mean 'memory_limit'"));
  EXPECT_THAT(message, HasSubstr("threads"));
}

TEST(ProjectTest, SecretsNeverAppearInErrors) {
  TempDir dir;
  dir.Write("sluice.yaml", "catalog: ${env:CATALOG_URL}\nquery: { max_bytes_scanned: 10GB }\n");
  std::string message = LoadError(dir, Options("", {{"CATALOG_URL", "mysql://root:topsecret@h/db"}}));
  EXPECT_THAT(message, HasSubstr("catalog '***' is neither"));
  EXPECT_THAT(message, Not(HasSubstr("topsecret")));
}

}  // namespace
}  // namespace sluice::config
