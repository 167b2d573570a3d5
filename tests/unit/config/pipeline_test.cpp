#include "config/pipeline.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_examples.hpp"
#include "test_util.hpp"

namespace sluice::config {
namespace {

using ::testing::ElementsAre;
using testing::FakeEnv;
using ::testing::HasSubstr;
using ::testing::Pair;
using testing::TempDir;

LoadOptions Options(std::string env = "") {
  LoadOptions options;
  options.env = std::move(env);
  options.redactor = std::make_shared<Redactor>();
  options.getenv = FakeEnv({{"AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"},
                            {"AWS_SECRET_ACCESS_KEY", "secret-example"},
                            {"REGISTRY_PASSWORD", "registry-pw"},
                            {"SLUICE_TOKEN", "token-value"},
                            {"API_KEY", "api-key-value"}});
  return options;
}

/// A project made of the contract's sluice.yaml plus the given pipeline files.
class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_.Write("sluice.yaml", testing::kSluiceYaml); }

  ProjectConfig Project(const std::string& env = "") {
    auto project = LoadProject(dir_.path(), Options(env));
    EXPECT_TRUE(project.ok()) << project.status();
    return project.ok() ? *project : ProjectConfig{};
  }

  Result<PipelineConfig> Load(const std::string& name, const std::string& text, const std::string& env = "") {
    auto file = dir_.Write("pipelines/" + name + ".yaml", text);
    return LoadPipeline(file, Project(env), Options(env));
  }

  PipelineConfig MustLoad(const std::string& name, const std::string& text, const std::string& env = "") {
    auto loaded = Load(name, text, env);
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return loaded.ok() ? *loaded : PipelineConfig{};
  }

  std::string LoadError(const std::string& name, const std::string& text) {
    auto loaded = Load(name, text);
    EXPECT_FALSE(loaded.ok());
    return loaded.ok() ? "" : loaded.status().message();
  }

  TempDir dir_;
};

TEST_F(PipelineTest, BirdstrikesExample) {
  PipelineConfig p = MustLoad("birdstrikes", testing::kBirdstrikesYaml);
  EXPECT_EQ(p.name, "birdstrikes");
  EXPECT_EQ(p.file, dir_.path() / "pipelines/birdstrikes.yaml");
  EXPECT_EQ(p.location.file, "pipelines/birdstrikes.yaml");
  ASSERT_EQ(p.jobs.size(), 1u);
  const JobConfig& job = p.jobs[0];
  EXPECT_EQ(job.name, "birdstrikes");
  EXPECT_EQ(job.source.Find("type")->scalar(), "files");
  EXPECT_EQ(*job.source.Find("path")->AsStringList(), (std::vector<std::string>{"incoming/birdstrikes*.csv"}));
  EXPECT_EQ(job.source.Find("path")->path(), "source.path");
  EXPECT_EQ(job.mode, LoadMode::kFull);
  EXPECT_EQ(job.on_error, OnError::kQuarantine);
  EXPECT_EQ(job.deletes, DeleteHandling::kIgnore);
  EXPECT_EQ(job.target.zone, "raw");
  EXPECT_EQ(job.target.table, "birdstrikes");
  EXPECT_EQ(job.target.write, WriteMode::kAppend);
  EXPECT_TRUE(job.depends_on.empty());
  EXPECT_TRUE(p.triggers.IsNull());
}

TEST_F(PipelineTest, CompoundsExample) {
  PipelineConfig p = MustLoad("compounds", testing::kCompoundsYaml);
  ASSERT_EQ(p.jobs.size(), 1u);
  const JobConfig& job = p.jobs[0];
  EXPECT_EQ(job.source.Find("connection")->scalar(), "registry");
  EXPECT_EQ(job.source.Find("table")->scalar(), "public.compounds");
  EXPECT_EQ(job.mode, LoadMode::kChanges);
  EXPECT_EQ(job.primary_key, (std::vector<std::string>{"id"}));
  EXPECT_EQ(job.deletes, DeleteHandling::kMark);
  EXPECT_EQ(job.target.table, "compounds");
  ASSERT_TRUE(p.triggers.IsList());
  EXPECT_EQ(p.triggers.items()[0].Find("schedule")->scalar(), "0 2 * * *");
  EXPECT_EQ(*p.notify.Find("on_failure")->AsStringList(), (std::vector<std::string>{"ops-mail"}));
}

TEST_F(PipelineTest, DepositsExample) {
  PipelineConfig p = MustLoad("deposits", testing::kDepositsYaml);
  ASSERT_EQ(p.jobs.size(), 1u);
  const JobConfig& job = p.jobs[0];
  EXPECT_EQ(job.mode, LoadMode::kWindow);
  EXPECT_EQ(job.window.Find("column")->scalar(), "shipmt_date_tstmp");
  EXPECT_EQ(job.window.Find("start")->scalar(), "2018-11-04 00:00:00");
  EXPECT_EQ(job.window.Find("step")->AsDuration()->count(), 86'400'000'000);
  EXPECT_EQ(*job.partitioning.GetInt("num_partitions", 1), 10);
  EXPECT_EQ(job.mask.Keys(), (std::vector<std::string>{"account_number", "customer_name"}));
  EXPECT_EQ(job.target.table, "deposits");
}

TEST_F(PipelineTest, WorldbankExampleIsAWorkflowInDependencyOrder) {
  PipelineConfig p = MustLoad("worldbank", testing::kWorldbankYaml);
  ASSERT_EQ(p.jobs.size(), 3u);
  EXPECT_EQ(p.jobs[0].name, "extract");
  EXPECT_EQ(p.jobs[1].name, "clean");
  EXPECT_EQ(p.jobs[2].name, "by_country");
  EXPECT_EQ(p.jobs[0].source.Find("url")->scalar(), "http://127.0.0.1:8000/indicators.zip");
  EXPECT_EQ(p.jobs[1].depends_on, (std::vector<std::string>{"extract"}));
  EXPECT_THAT(p.jobs[1].depends_on_conditions, ElementsAre(Pair("extract", DependencyCondition::kSuccess)));
  EXPECT_EQ(p.jobs[1].steps.items().size(), 2u);
  EXPECT_EQ(p.jobs[1].steps.items()[1].Find("add_columns")->Find("etl_timestamp")->scalar(), "now()");
  EXPECT_EQ(p.jobs[1].checks.items()[1].Find("unique")->path(), "jobs.clean.checks[1].unique");
  EXPECT_EQ(p.jobs[1].target.zone, "silver");
  EXPECT_EQ(p.jobs[1].location.ToString(), "pipelines/worldbank.yaml:8:3");
  EXPECT_EQ(p.jobs[2].target.partition_by, (std::vector<std::string>{"country"}));
  EXPECT_EQ(p.jobs[2].target.write, WriteMode::kOverwrite);
  EXPECT_EQ(p.FindJob("clean"), &p.jobs[1]);
  EXPECT_EQ(p.FindJob("nope"), nullptr);
}

TEST_F(PipelineTest, TriggersExampleParses) {
  std::string text = std::string(
                         "name: orders\nsource: { type: files, path: incoming/orders*.csv }\n"
                         "target: { zone: raw, table: orders }\n") +
                     testing::kTriggersFragment;
  PipelineConfig p = MustLoad("orders", text);
  ASSERT_EQ(p.triggers.items().size(), 4u);
  EXPECT_EQ(p.triggers.items()[1].Find("file_arrival")->Find("settle")->AsDuration()->count(), 30'000'000);
}

TEST_F(PipelineTest, AllExamplesLoadTogetherSortedByName) {
  dir_.Write("pipelines/worldbank.yaml", testing::kWorldbankYaml);
  dir_.Write("pipelines/birdstrikes.yaml", testing::kBirdstrikesYaml);
  dir_.Write("pipelines/deposits.yml", testing::kDepositsYaml);
  dir_.Write("pipelines/a-compounds.yaml", testing::kCompoundsYaml);  // name: wins over the file name
  dir_.Write("pipelines/.#deposits.yaml", "not: [valid");             // editor leftovers are skipped
  dir_.Write("pipelines/README.md", "# not a pipeline");
  auto loaded = LoadPipelines(Project(), Options());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  std::vector<std::string> names;
  for (const auto& p : *loaded) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"birdstrikes", "compounds", "deposits", "worldbank"}));
}

TEST_F(PipelineTest, DuplicatePipelineNamesNameBothFiles) {
  dir_.Write("pipelines/one.yaml", testing::kBirdstrikesYaml);
  dir_.Write("pipelines/two.yaml", testing::kBirdstrikesYaml);
  auto loaded = LoadPipelines(Project(), Options());
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(),
              HasSubstr("pipeline name 'birdstrikes' is used by both pipelines/one.yaml and pipelines/two.yaml"));
}

TEST_F(PipelineTest, NoPipelinesFolderMeansNoPipelines) {
  auto loaded = LoadPipelines(Project(), Options());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(loaded->empty());
}

TEST_F(PipelineTest, TypoGetsNearestKeyHint) {
  EXPECT_EQ(LoadError("birds",
                      "name: birds\n"
                      "source:\n"
                      "  type: files\n"
                      "  path: incoming/*.csv\n"
                      "target: { zone: raw, table: birds }\n"
                      "mode: full\n"
                      "targt: { zone: raw }\n"),
            "pipelines/birds.yaml:7:1: unknown key 'targt' in pipeline 'birds' (did you mean 'target'?)");
}

TEST_F(PipelineTest, AllErrorsOfAFileAreCollected) {
  std::string message = LoadError("bad",
                                  "name: bad\n"
                                  "source: { connection: registry }\n"
                                  "mode: chnages\n"
                                  "deletes: sometimes\n"
                                  "on_error: ignore\n"
                                  "retries: -1\n"
                                  "timeout: eventually\n"
                                  "notify: { on_failure: [ops-mial] }\n"
                                  "target: { zone: bronze, table: raw.bad, write: upsert, file_size: big }\n");
  EXPECT_THAT(message, HasSubstr("10 configuration errors:"));
  EXPECT_THAT(message, HasSubstr("pipelines/bad.yaml:3:7: mode 'chnages' of pipeline 'bad' is not one of full, "
                                 "incremental, window, changes, cdc (did you mean 'changes'?)"));
  EXPECT_THAT(message, HasSubstr("pipelines/bad.yaml:4:10: deletes 'sometimes' of pipeline 'bad' is not one of "
                                 "ignore, mark"));
  EXPECT_THAT(message, HasSubstr("pipelines/bad.yaml:5:11: on_error 'ignore' of pipeline 'bad' is not one of fail, "
                                 "quarantine"));
  EXPECT_THAT(message, HasSubstr("pipelines/bad.yaml:6:10: retries of pipeline 'bad' must be 0 or more, got -1"));
  EXPECT_THAT(message, HasSubstr("pipelines/bad.yaml:7:10: invalid value for 'timeout' in pipeline 'bad': must be a "
                                 "duration"));
  EXPECT_THAT(message, HasSubstr("pipelines/bad.yaml:8:24: notification 'ops-mial' (notify.on_failure of pipeline "
                                 "'bad') is not defined under notifications: in sluice.yaml (did you mean "
                                 "'ops-mail'?)"));
  EXPECT_THAT(message, HasSubstr("zone 'bronze' of target of pipeline 'bad' is not one of raw, silver, gold"));
  EXPECT_THAT(message, HasSubstr("table 'raw.bad' in target of pipeline 'bad' is not a plain table name; write "
                                 "zone: raw and table: bad"));
  EXPECT_THAT(message, HasSubstr("write 'upsert' of target of pipeline 'bad' is not one of append, overwrite, "
                                 "overwrite_partitions, merge"));
  EXPECT_THAT(message, HasSubstr("invalid value for 'file_size' in target of pipeline 'bad': must be a size"));
}

TEST_F(PipelineTest, MissingSourceAndTargetAreReported) {
  std::string message = LoadError("empty", "description: nothing here\n");
  EXPECT_THAT(message, HasSubstr("missing required key 'source' in pipeline 'empty'"));
  EXPECT_THAT(message, HasSubstr("missing required key 'target' in pipeline 'empty'"));
  EXPECT_THAT(LoadError("nokind", "source: { path: x.csv }\ntarget: { zone: raw, table: t }\n"),
              HasSubstr("pipelines/nokind.yaml:1:9: source of pipeline 'nokind' needs type:"));
  EXPECT_THAT(LoadError("blank", ""), HasSubstr("pipelines/blank.yaml: a pipeline file must be a map"));
}

TEST_F(PipelineTest, SqlJobsRunAScriptInsteadOfSourceAndTarget) {
  auto p = MustLoad("shop",
                    "jobs:\n"
                    "  load:\n"
                    "    source: { type: files, path: x.csv }\n"
                    "    target: { zone: raw, table: x }\n"
                    "  analytics:\n"
                    "    depends_on: [load]\n"
                    "    timeout: 10m\n"
                    "    sql: { connection: registry, file: sql/analytics.sql }\n"
                    "  inline:\n"
                    "    sql:\n"
                    "      connection: registry\n"
                    "      script: |\n"
                    "        SELECT 1;\n");
  const auto* analytics = p.FindJob("analytics");
  ASSERT_NE(analytics, nullptr);
  ASSERT_TRUE(analytics->sql.has_value());
  EXPECT_EQ(analytics->sql->connection, "registry");
  EXPECT_EQ(analytics->sql->file, "sql/analytics.sql");
  EXPECT_EQ(analytics->sql->location.line, 8);
  EXPECT_EQ(analytics->depends_on, (std::vector<std::string>{"load"}));
  const auto* inline_job = p.FindJob("inline");
  ASSERT_NE(inline_job, nullptr);
  ASSERT_TRUE(inline_job->sql.has_value());
  EXPECT_EQ(inline_job->sql->script, "SELECT 1;\n");
  EXPECT_FALSE(p.FindJob("load")->sql.has_value());
}

// CONFIG.md, "Into a database: staging → analytics → export", verbatim.
constexpr const char* kShopYaml = R"yaml(name: shop
triggers:
  - file_arrival: { path: incoming/, require: [orders*.csv, reviews*.csv, shipments*.csv], settle: 30s, max_runs: 1 per day }
notify: { on_success: [ops-mail], on_failure: [ops-mail] }
jobs:
  orders:
    source: { type: files, path: incoming/orders*.csv }
    target: { connection: warehouse, schema: staging, table: orders, write: replace }  # append | replace | merge
    on_error: quarantine                # bad rows → raw.orders__rejects in the lake, with line numbers
  reviews:
    source: { type: files, path: incoming/reviews*.csv }
    target: { connection: warehouse, schema: staging, table: reviews, write: replace }
  shipments:
    source: { type: files, path: incoming/shipments*.csv }
    target: { connection: warehouse, schema: staging, table: shipments, write: replace }
  analytics:
    depends_on: [orders, reviews, shipments]
    sql: { connection: warehouse, file: sql/analytics.sql }   # one transaction; or script: "…"
  export:
    depends_on: [analytics]
    source: { connection: warehouse, table: analytics.daily_revenue }
    target: { type: files, path: exports/daily_revenue.csv, format: csv }   # or s3://bucket/prefix/…
)yaml";

TEST_F(PipelineTest, TheContractsScenarioTwoPipelineLoads) {
  std::string project = testing::kSluiceYaml;
  project.replace(project.find("connections:\n"), 13,
                  "connections:\n  warehouse:\n    type: postgres\n    url: postgresql://etl@127.0.0.1:5432/shop\n");
  dir_.Write("sluice.yaml", project);
  auto p = MustLoad("shop", kShopYaml);
  ASSERT_EQ(p.jobs.size(), 5u);
  EXPECT_EQ(p.jobs.back().name, "export");
  const auto* analytics = p.FindJob("analytics");
  ASSERT_NE(analytics, nullptr);
  ASSERT_TRUE(analytics->sql.has_value());
  EXPECT_EQ(analytics->sql->connection, "warehouse");
  EXPECT_EQ(p.FindJob("orders")->target.connection, "warehouse");
  EXPECT_EQ(p.FindJob("export")->target.type, "files");
}

TEST_F(PipelineTest, SqlJobMistakesAreNamed) {
  std::string both = LoadError("both",
                               "sql: { connection: registry, file: a.sql }\nsource: { type: files, path: x }\n"
                               "target: { zone: raw, table: t }\n");
  EXPECT_THAT(both,
              HasSubstr("pipelines/both.yaml:2:1: pipeline 'both' has sql: and source:; a sql: job only runs SQL"));
  EXPECT_THAT(both, HasSubstr("pipelines/both.yaml:3:1: pipeline 'both' has sql: and target:"));
  EXPECT_THAT(LoadError("neither", "sql: { connection: registry }\n"),
              HasSubstr("sql of pipeline 'neither' needs exactly one of file: (a .sql file in the project) or script: "
                        "(the statements inline), got neither"));
  EXPECT_THAT(LoadError("two", "sql: { connection: registry, file: a.sql, script: SELECT 1 }\n"),
              HasSubstr("needs exactly one of file: (a .sql file in the project) or script: (the statements "
                        "inline), not both"));
  EXPECT_THAT(LoadError("conn", "sql: { connection: registyr, file: a.sql }\n"),
              HasSubstr("pipelines/conn.yaml:1:20: connection 'registyr' (sql of pipeline 'conn') is not defined under "
                        "connections: in sluice.yaml (did you mean 'registry'?)"));
  EXPECT_THAT(LoadError("noconn", "sql: { file: a.sql }\n"),
              HasSubstr("missing required key 'connection' in sql of pipeline 'noconn'"));
  EXPECT_THAT(LoadError("steps", "sql: { connection: registry, file: a.sql }\nsteps: []\n"),
              HasSubstr("pipeline 'steps' has sql: and steps:"));
}

TEST_F(PipelineTest, JobKeysAtTopLevelOfAJobsPipelineAreErrors) {
  std::string message = LoadError("wf",
                                  "jobs:\n"
                                  "  a:\n"
                                  "    source: { type: files, path: x }\n"
                                  "    target: { zone: raw, table: a }\n"
                                  "mode: full\n"
                                  "target: { zone: raw, table: b }\n");
  EXPECT_THAT(message, HasSubstr("pipelines/wf.yaml:5:1: key 'mode' in pipeline 'wf' belongs to a job: this pipeline "
                                 "has jobs:, so move it into one of them (a)"));
  EXPECT_THAT(message, HasSubstr("pipelines/wf.yaml:6:1: key 'target' in pipeline 'wf' belongs to a job"));
}

TEST_F(PipelineTest, SingleJobFormCannotDependOnJobs) {
  EXPECT_THAT(LoadError("single",
                        "source: { type: files, path: x }\ntarget: { zone: raw, table: a }\n"
                        "depends_on: [other]\n"),
              HasSubstr("pipelines/single.yaml:3:1: depends_on in pipeline 'single' has no sibling jobs"));
}

TEST_F(PipelineTest, JobKeyTyposInsideJobs) {
  EXPECT_EQ(LoadError("wf",
                      "jobs:\n"
                      "  a:\n"
                      "    source: { type: files, path: x }\n"
                      "    targte: { zone: raw, table: a }\n"),
            "2 configuration errors:\n"
            "  pipelines/wf.yaml:4:5: unknown key 'targte' in job 'a' of pipeline 'wf' (did you mean 'target'?)\n"
            "  pipelines/wf.yaml:2:3: missing required key 'target' in job 'a' of pipeline 'wf' (where the result "
            "goes: zone, table, ... (keys below) for the lake; connection: (a database) or type: (files) for a sink "
            "outside it; every job but a sql: job needs one)");
}

TEST_F(PipelineTest, DependencyCycleNamesTheJobs) {
  std::string message = LoadError("loop",
                                  "jobs:\n"
                                  "  start:\n"
                                  "    source: { type: files, path: x }\n"
                                  "    target: { zone: raw, table: s }\n"
                                  "  a:\n"
                                  "    depends_on: [start, c]\n"
                                  "    source: { table: raw.s }\n"
                                  "    target: { zone: silver, table: a }\n"
                                  "  b:\n"
                                  "    depends_on: a\n"
                                  "    source: { table: silver.a }\n"
                                  "    target: { zone: silver, table: b }\n"
                                  "  c:\n"
                                  "    depends_on: [{ job: b, condition: always }]\n"
                                  "    source: { table: silver.b }\n"
                                  "    target: { zone: gold, table: c }\n");
  EXPECT_THAT(message, HasSubstr("jobs of pipeline 'loop' depend on each other in a cycle: "));
  EXPECT_THAT(message, HasSubstr("a -> b -> c -> a"));
  EXPECT_THAT(message, ::testing::Not(HasSubstr("start ->")));

  EXPECT_THAT(LoadError("self",
                        "jobs:\n"
                        "  a:\n"
                        "    depends_on: a\n"
                        "    source: { type: files, path: x }\n"
                        "    target: { zone: raw, table: a }\n"),
              HasSubstr("pipelines/self.yaml:2:3: jobs of pipeline 'self' depend on each other in a cycle: a -> a"));
}

TEST_F(PipelineTest, MissingDependencyIsNamedWithAHint) {
  EXPECT_EQ(LoadError("wf",
                      "jobs:\n"
                      "  extract:\n"
                      "    source: { type: files, path: x }\n"
                      "    target: { zone: raw, table: a }\n"
                      "  clean:\n"
                      "    depends_on: [extrct]\n"
                      "    source: { table: raw.a }\n"
                      "    target: { zone: silver, table: a }\n"),
            "pipelines/wf.yaml:6:18: job 'clean' depends on 'extrct', which is not a job of pipeline 'wf' (did you "
            "mean 'extract'?)");
}

TEST_F(PipelineTest, TopologicalOrderIsStableAndConditionsAreKept) {
  PipelineConfig p = MustLoad("wf",
                              "jobs:\n"
                              "  report:\n"
                              "    depends_on: [{ job: load_b, condition: always }, load_a]\n"
                              "    source: { table: raw.b }\n"
                              "    target: { zone: gold, table: r }\n"
                              "  load_a:\n"
                              "    source: { type: files, path: a }\n"
                              "    target: { zone: raw, table: a }\n"
                              "  alert:\n"
                              "    depends_on: { job: report, condition: failure }\n"
                              "    source: { table: gold.r }\n"
                              "    target: { zone: gold, table: alerts }\n"
                              "  load_b:\n"
                              "    source: { type: files, path: b }\n"
                              "    target: { zone: raw, table: b }\n");
  std::vector<std::string> order;
  for (const auto& job : p.jobs) order.push_back(job.name);
  EXPECT_EQ(order, (std::vector<std::string>{"load_a", "load_b", "report", "alert"}));
  EXPECT_THAT(p.FindJob("report")->depends_on_conditions,
              ElementsAre(Pair("load_b", DependencyCondition::kAlways), Pair("load_a", DependencyCondition::kSuccess)));
  EXPECT_THAT(p.FindJob("alert")->depends_on_conditions, ElementsAre(Pair("report", DependencyCondition::kFailure)));
}

TEST_F(PipelineTest, JobsMayBeAListWithNames) {
  PipelineConfig p = MustLoad("list",
                              "jobs:\n"
                              "  - name: second\n"
                              "    depends_on: first\n"
                              "    source: { table: raw.a }\n"
                              "    target: { zone: silver, table: a }\n"
                              "  - name: first\n"
                              "    source: { type: files, path: a }\n"
                              "    target: { zone: raw, table: a }\n");
  ASSERT_EQ(p.jobs.size(), 2u);
  EXPECT_EQ(p.jobs[0].name, "first");
  EXPECT_EQ(p.jobs[1].name, "second");
}

TEST_F(PipelineTest, WindowModeNeedsAWindow) {
  EXPECT_THAT(LoadError("w",
                        "source: { connection: registry, table: t }\nmode: window\n"
                        "target: { zone: raw, table: t }\n"),
              HasSubstr("pipelines/w.yaml:2:1: pipeline 'w' has mode: window but no window: section"));
}

TEST_F(PipelineTest, PipelineEnvironmentOverlayAndSecrets) {
  std::string text =
      "name: api\n"
      "source:\n"
      "  type: http\n"
      "  url: http://127.0.0.1:8000/data.csv\n"
      "  headers: { Authorization: 'Bearer ${env:API_KEY}' }\n"
      "target: { zone: raw, table: api }\n"
      "environments:\n"
      "  prod:\n"
      "    source: { url: https://api.example.com/data.csv }\n"
      "    retries: 3\n";
  PipelineConfig dev = MustLoad("api", text);
  EXPECT_EQ(dev.jobs[0].source.Find("url")->scalar(), "http://127.0.0.1:8000/data.csv");
  EXPECT_FALSE(dev.jobs[0].retries.has_value());
  EXPECT_EQ(dev.environments, (std::vector<std::string>{"prod"}));
  EXPECT_EQ(dev.jobs[0].source.Find("headers")->Find("Authorization")->scalar(), "Bearer api-key-value");
  EXPECT_TRUE(dev.jobs[0].source.Find("headers")->Find("Authorization")->is_secret());

  PipelineConfig prod = MustLoad("api", text, "prod");
  EXPECT_EQ(prod.jobs[0].source.Find("url")->scalar(), "https://api.example.com/data.csv");
  EXPECT_EQ(prod.jobs[0].source.Find("type")->scalar(), "http");  // deep merge keeps the other keys
  EXPECT_EQ(prod.jobs[0].retries, 3);
  EXPECT_EQ(prod.jobs[0].source.Find("url")->location().ToString(), "pipelines/api.yaml:9:20");

  EXPECT_THAT(LoadError("api2",
                        "source: { type: files, path: x }\ntarget: { zone: raw, table: t }\n"
                        "environments:\n  prdo:\n    retries: 1\n"),
              HasSubstr("pipelines/api2.yaml:4:3: environment 'prdo' is not defined in sluice.yaml (did you mean "
                        "'prod'?)"));
}

TEST_F(PipelineTest, MissingFileIsNotFound) {
  auto loaded = LoadPipeline(dir_.path() / "pipelines/ghost.yaml", Project(), Options());
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace sluice::config
