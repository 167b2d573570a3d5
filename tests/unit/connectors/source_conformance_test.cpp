// The contract every source keeps with the pipeline (connectors/source.hpp), checked against each
// built-in source on real inputs: files on disk, a table in a real PostgreSQL server. A new source
// adds one SourceUnderTest here. (The http source needs an HTTP server and is covered end to end
// in tests/e2e/test_http_source.py.)

#include <gtest/gtest.h>

#include <fstream>

#include "config/value.hpp"
#include "connectors/source.hpp"
#include "connectors/sources/files/files_source.hpp"
#include "connectors/sources/postgres/postgres_source.hpp"
#include "unit/engine_support.hpp"
#include "unit/postgres/pg_server.hpp"

namespace sluice::connectors {
namespace {
namespace fs = std::filesystem;

/// One source on an input of its kind holding rows with an integer `id`.
class SourceUnderTest {
 public:
  virtual ~SourceUnderTest() = default;
  virtual SourceDescriptor Descriptor() const = 0;
  /// Creates the input with ids 1..3; returns the source's options.
  virtual Result<std::string> CreateInput(const fs::path& root) = 0;
  /// Adds ids 4 and 5 to the input.
  virtual Status AddRows(const fs::path& root) = 0;
  virtual std::optional<std::string> Env(const std::string& /*name*/) const { return std::nullopt; }
  /// Load modes besides the default that read only what is new since the checkpoint, each with
  /// the options it needs on top of CreateInput's.
  virtual std::vector<std::pair<ReadRequest, std::string>> IncrementalModes() const { return {}; }
};

class FilesUnderTest final : public SourceUnderTest {
 public:
  SourceDescriptor Descriptor() const override { return FilesSourceDescriptor(); }
  Result<std::string> CreateInput(const fs::path& root) override {
    fs::create_directories(root / "in");
    std::ofstream(root / "in/a.csv") << "id,name\n1,a\n2,b\n3,c\n";
    return std::string("path: in/*.csv\n");
  }
  Status AddRows(const fs::path& root) override {
    std::ofstream(root / "in/b.csv") << "id,name\n4,d\n5,e\n";
    return Status::OK();
  }
};

class PostgresUnderTest final : public SourceUnderTest {
 public:
  SourceDescriptor Descriptor() const override { return PostgresSourceDescriptor(); }
  Result<std::string> CreateInput(const fs::path& /*root*/) override {
    SLUICE_TRY(Start());
    SLUICE_TRY(
        Run("DROP TABLE IF EXISTS conformance; CREATE TABLE conformance (id bigint PRIMARY KEY, name text); "
            "INSERT INTO conformance VALUES (1, 'a'), (2, 'b'), (3, 'c')"));
    return fmt::format("url: {}\npassword: \"${{env:CONFORMANCE_PG_PASSWORD}}\"\ntable: conformance\n", server_->url);
  }
  Status AddRows(const fs::path& /*root*/) override { return Run("INSERT INTO conformance VALUES (4, 'd'), (5, 'e')"); }
  std::optional<std::string> Env(const std::string& name) const override {
    if (name == "CONFORMANCE_PG_PASSWORD" && server_) return server_->password;
    return std::nullopt;
  }
  std::vector<std::pair<ReadRequest, std::string>> IncrementalModes() const override {
    ReadRequest incremental;
    incremental.mode = config::LoadMode::kIncremental;
    return {{incremental, "cursor: id\n"}};
  }
  ~PostgresUnderTest() override {
    if (server_) postgres::testing::StopPgServer(*server_);
  }

 private:
  Status Start() {
    if (server_) return Status::OK();
    std::string error;
    server_ = postgres::testing::StartPgServer(&error);
    if (!server_) return Status::IoError("no test PostgreSQL server: {}", error);
    return Status::OK();
  }
  Status Run(const std::string& sql) {
    SLUICE_ASSIGN_OR_RETURN(auto client, postgres::PgClient::Connect(server_->url, Secret(server_->password)));
    return client->Execute(sql);
  }
  std::optional<postgres::testing::PgServerInfo> server_;
};

/// One server for the whole suite, started on first use and stopped at exit.
SourceUnderTest& Subject(const std::string& name) {
  static FilesUnderTest files;
  static PostgresUnderTest postgres;
  if (name == "postgres") return postgres;
  return files;
}

class SourceConformance : public ::testing::TestWithParam<std::string>, protected test_support::WithEngine {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sluice-source-conformance-XXXXXX";
    root_ = ::mkdtemp(pattern);
    project_.root = root_;
    ASSERT_NO_FATAL_FAILURE(OpenEngine());
    auto options = subject().CreateInput(root_);
    ASSERT_TRUE(options.ok()) << options.status();
    options_ = *options;
  }
  void TearDown() override { fs::remove_all(root_); }

  SourceUnderTest& subject() { return Subject(GetParam()); }

  Result<std::unique_ptr<Source>> Bind(const std::string& yaml, ReadRequest request = {}) {
    config::ParseOptions parse;
    parse.getenv = [this](const std::string& name) { return subject().Env(name); };
    SLUICE_ASSIGN_OR_RETURN(auto options, config::ParseYaml(yaml, "conformance.yaml", parse));
    BindContext context{project_, "p", "j", "", std::move(request)};
    return BindSource(subject().Descriptor(), context, options);
  }

  /// Opens a reader at `checkpoint` and reads every part, as the pipeline does; the ids read, sorted.
  Result<std::vector<int64_t>> ReadAll(Source& source, const Checkpoint& checkpoint, Checkpoint* next = nullptr) {
    fs::path work = root_ / fmt::format("work-{}", ++runs_);
    fs::create_directories(work);
    SLUICE_ASSIGN_OR_RETURN(auto reader,
                            source.Open(checkpoint, RunContext{clock_, work, fmt::format("run-{}", runs_)}));
    std::vector<int64_t> ids;
    if (!reader->NothingToRead()) {
      EXPECT_FALSE(reader->PendingSummary().empty());
      for (int part = 0;; ++part) {
        std::string relation = fmt::format("part_{}_{}", runs_, part);
        SLUICE_ASSIGN_OR_RETURN(ReadState state, reader->Read(*conn_, relation));
        auto rows = conn_->Query(fmt::format("SELECT id::BIGINT AS id FROM {}", relation));
        SLUICE_ASSIGN_OR_RETURN(ReadState after, reader->PartConsumed(rows.status()));
        for (size_t i = 0; i < rows->rows.size(); ++i) ids.push_back(rows->GetInt(i, "id"));
        if (state == ReadState::kFinished || after == ReadState::kFinished) break;
        if (part > 100) return Status::Internal("the reader never finished");
      }
      std::string rejects = reader->rejecting() != nullptr ? reader->rejecting()->RejectsRelation() : "";
      if (!rejects.empty()) {
        auto described = conn_->Describe("SELECT * FROM " + rejects);
        if (!described.ok()) return described.status();
        std::vector<std::string> names;
        for (const auto& c : *described) names.push_back(c.name);
        EXPECT_EQ(names, (std::vector<std::string>{"_source_file", "_line", "_column", "_error_type", "_reason",
                                                   "_raw_line"}));
      }
    }
    if (next != nullptr) *next = reader->NewCheckpoint();
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  fs::path root_;
  config::ProjectConfig project_;
  SystemClock clock_;
  std::string options_;
  int runs_ = 0;
};

TEST_P(SourceConformance, BindPlansWithoutReadingAndNamesItself) {
  auto source = Bind(options_);
  ASSERT_TRUE(source.ok()) << source.status();
  const SourcePlan& plan = (*source)->plan();
  EXPECT_EQ(plan.connector, GetParam());
  EXPECT_FALSE(plan.description.empty());
  EXPECT_FALSE(plan.origin.empty());
}

TEST_P(SourceConformance, UnknownOptionsAreRefusedNamingTheKey) {
  auto source = Bind(options_ + "colour_of_the_sky: blue\n");
  ASSERT_FALSE(source.ok());
  EXPECT_NE(source.status().message().find("colour_of_the_sky"), std::string::npos) << source.status();
}

TEST_P(SourceConformance, ReadsEveryRowOnce) {
  auto source = Bind(options_);
  ASSERT_TRUE(source.ok()) << source.status();
  auto ids = ReadAll(**source, {});
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, (std::vector<int64_t>{1, 2, 3}));
}

TEST_P(SourceConformance, TheCheckpointSaysWhereTheNextRunStarts) {
  // An incremental source reads only what is new since its checkpoint; a snapshot source reads the
  // whole input again (its commit replaces the table).
  auto source = Bind(options_);
  ASSERT_TRUE(source.ok()) << source.status();
  Checkpoint first;
  ASSERT_TRUE(ReadAll(**source, {}, &first).ok());
  auto unchanged = ReadAll(**source, first);
  ASSERT_TRUE(unchanged.ok()) << unchanged.status();
  bool snapshot = (*source)->plan().snapshot;
  using Ids = std::vector<int64_t>;
  EXPECT_EQ(*unchanged, snapshot ? Ids({1, 2, 3}) : Ids());

  ASSERT_TRUE(subject().AddRows(root_).ok());
  auto grown = ReadAll(**source, first);
  ASSERT_TRUE(grown.ok()) << grown.status();
  EXPECT_EQ(*grown, snapshot ? Ids({1, 2, 3, 4, 5}) : Ids({4, 5}));
}

TEST_P(SourceConformance, IncrementalModesReadOnlyWhatIsNew) {
  using Ids = std::vector<int64_t>;
  bool first_mode = true;
  for (const auto& [request, extra_options] : subject().IncrementalModes()) {
    SCOPED_TRACE(config::ToString(request.mode));
    if (!first_mode) ASSERT_TRUE(subject().CreateInput(root_).ok());
    first_mode = false;
    auto source = Bind(options_ + extra_options, request);
    ASSERT_TRUE(source.ok()) << source.status();
    EXPECT_FALSE((*source)->plan().snapshot);
    EXPECT_TRUE((*source)->plan().is_incremental);
    Checkpoint first;
    auto all = ReadAll(**source, {}, &first);
    ASSERT_TRUE(all.ok()) << all.status();
    EXPECT_EQ(*all, Ids({1, 2, 3}));
    auto unchanged = ReadAll(**source, first);
    ASSERT_TRUE(unchanged.ok()) << unchanged.status();
    EXPECT_EQ(*unchanged, Ids());
    ASSERT_TRUE(subject().AddRows(root_).ok());
    auto grown = ReadAll(**source, first);
    ASSERT_TRUE(grown.ok()) << grown.status();
    EXPECT_EQ(*grown, Ids({4, 5}));
  }
}

INSTANTIATE_TEST_SUITE_P(Builtin, SourceConformance, ::testing::Values("files", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace sluice::connectors
