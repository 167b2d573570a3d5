// docs/configuration.md embeds the key tables the loaders validate with; this keeps them equal.

#include <gtest/gtest.h>

#include "config/option_reader.hpp"
#include "config/pipeline.hpp"
#include "config/project.hpp"
#include "config/stream.hpp"
#include "unit/docs_support.hpp"

namespace sluice::config {
namespace {

using sluice::test_support::KeysSection;

TEST(DocsTest, KeyTablesMatchTheCode) {
  std::string doc = sluice::test_support::ReadSourceFile("docs/configuration.md");
  ASSERT_FALSE(doc.empty()) << "cannot read docs/configuration.md under " << sluice::test_support::DocsSourceDir();
  EXPECT_EQ(KeysSection(doc, "project"), OptionsMarkdown(ProjectKeys()));
  EXPECT_EQ(KeysSection(doc, "s3"), OptionsMarkdown(S3Keys()));
  EXPECT_EQ(KeysSection(doc, "masking"), OptionsMarkdown(MaskingKeys()));
  EXPECT_EQ(KeysSection(doc, "query"), OptionsMarkdown(QueryKeys()));
  EXPECT_EQ(KeysSection(doc, "pipeline"), OptionsMarkdown(PipelineKeys()));
  EXPECT_EQ(KeysSection(doc, "job"), OptionsMarkdown(JobKeys()));
  EXPECT_EQ(KeysSection(doc, "target"), OptionsMarkdown(TargetKeys()));
  EXPECT_EQ(KeysSection(doc, "sql"), OptionsMarkdown(SqlJobKeys()));
  EXPECT_NE(doc.find("docs/connectors/"), std::string::npos);
}

TEST(DocsTest, ServerKeyTableMatchesTheCode) {
  std::string doc = sluice::test_support::ReadSourceFile("docs/api.md");
  ASSERT_FALSE(doc.empty()) << "cannot read docs/api.md under " << sluice::test_support::DocsSourceDir();
  EXPECT_EQ(KeysSection(doc, "server"), OptionsMarkdown(ServerKeys()));
}

TEST(DocsTest, StreamKeyTablesMatchTheCode) {
  std::string doc = sluice::test_support::ReadSourceFile("docs/streams.md");
  ASSERT_FALSE(doc.empty()) << "cannot read docs/streams.md under " << sluice::test_support::DocsSourceDir();
  EXPECT_EQ(KeysSection(doc, "stream"), OptionsMarkdown(StreamKeys()));
  EXPECT_EQ(KeysSection(doc, "stream_target"), OptionsMarkdown(StreamTargetKeys()));
  EXPECT_EQ(KeysSection(doc, "stream_buffer"), OptionsMarkdown(StreamBufferKeys()));
  EXPECT_EQ(KeysSection(doc, "stream_aws_key"), OptionsMarkdown(StreamAwsKeyKeys()));
}

/// OptionReader reads these defaults as the values of keys left out: each must parse as its type.
TEST(DocsTest, EveryKeyTableDefaultParsesAsItsType) {
  for (const auto* table : {&ProjectKeys(), &S3Keys(), &PipelineKeys(), &JobKeys(), &TargetKeys(), &SqlJobKeys(),
                            &ServerKeys(), &StreamKeys(), &StreamTargetKeys(), &StreamBufferKeys(), &StreamAwsKeyKeys(),
                            &MaskingKeys(), &QueryKeys()}) {
    for (const auto& bad : InvalidDefaults(*table)) ADD_FAILURE() << bad;
  }
}

}  // namespace
}  // namespace sluice::config
