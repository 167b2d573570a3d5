// docs/configuration.md embeds the key tables the loaders validate with; this keeps them equal.

#include <gtest/gtest.h>

#include "config/option_reader.hpp"
#include "config/pipeline.hpp"
#include "config/project.hpp"
#include "config/stream.hpp"
#include "unit/docs_support.hpp"

namespace sluice::config {
namespace {

/// Each generated key table of docs/ and the option table it shows; SLUICE_UPDATE_DOCS=1 rewrites them.
struct KeyTable {
  const char* doc;
  const char* section;
  const std::vector<OptionSpec>& keys;
};

std::vector<KeyTable> KeyTables() {
  return {
      {"docs/configuration.md", "project", ProjectKeys()},
      {"docs/configuration.md", "s3", S3Keys()},
      {"docs/configuration.md", "masking", MaskingKeys()},
      {"docs/configuration.md", "query", QueryKeys()},
      {"docs/configuration.md", "engine", EngineKeys()},
      {"docs/configuration.md", "pipeline", PipelineKeys()},
      {"docs/configuration.md", "job", JobKeys()},
      {"docs/configuration.md", "target", TargetKeys()},
      {"docs/configuration.md", "sql", SqlJobKeys()},
      {"docs/api.md", "server", ServerKeys()},
      {"docs/streams.md", "stream", StreamKeys()},
      {"docs/streams.md", "stream_target", StreamTargetKeys()},
      {"docs/streams.md", "stream_buffer", StreamBufferKeys()},
      {"docs/streams.md", "stream_aws_key", StreamAwsKeyKeys()},
  };
}

TEST(DocsTest, KeyTablesMatchTheCode) {
  for (const auto& table : KeyTables()) {
    std::string problem =
        sluice::test_support::UpdateOrCompareKeysSection(table.doc, table.section, OptionsMarkdown(table.keys));
    EXPECT_TRUE(problem.empty()) << problem;
  }
  EXPECT_NE(sluice::test_support::ReadSourceFile("docs/configuration.md").find("docs/connectors/"), std::string::npos);
}

/// OptionReader reads these defaults as the values of keys left out: each must parse as its type.
TEST(DocsTest, EveryKeyTableDefaultParsesAsItsType) {
  for (const auto& table : KeyTables()) {
    for (const auto& bad : InvalidDefaults(table.keys)) ADD_FAILURE() << table.section << ": " << bad;
  }
}

}  // namespace
}  // namespace sluice::config
