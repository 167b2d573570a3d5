// docs/configuration.md embeds the key tables the loaders validate with; this keeps them equal.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config/pipeline.hpp"
#include "config/project.hpp"
#include "test_util.hpp"

namespace sluice::config {
namespace {

std::string ReadDoc() {
  std::ifstream in(testing::SourceDir() / "docs/configuration.md");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The text between <!-- keys:NAME:begin --> and <!-- keys:NAME:end -->, or "(missing)".
std::string Section(const std::string& doc, const std::string& name) {
  std::string begin = "<!-- keys:" + name + ":begin -->\n";
  std::string end = "<!-- keys:" + name + ":end -->";
  size_t b = doc.find(begin);
  size_t e = doc.find(end);
  if (b == std::string::npos || e == std::string::npos || e < b) return "(missing)";
  return doc.substr(b + begin.size(), e - b - begin.size());
}

TEST(DocsTest, KeyTablesMatchTheCode) {
  std::string doc = ReadDoc();
  ASSERT_FALSE(doc.empty()) << "cannot read docs/configuration.md under " << testing::SourceDir();
  EXPECT_EQ(Section(doc, "project"), OptionsMarkdown(ProjectKeys()));
  EXPECT_EQ(Section(doc, "s3"), OptionsMarkdown(S3Keys()));
  EXPECT_EQ(Section(doc, "masking"), OptionsMarkdown(MaskingKeys()));
  EXPECT_EQ(Section(doc, "query"), OptionsMarkdown(QueryKeys()));
  EXPECT_EQ(Section(doc, "pipeline"), OptionsMarkdown(PipelineKeys()));
  EXPECT_EQ(Section(doc, "job"), OptionsMarkdown(JobKeys()));
  EXPECT_EQ(Section(doc, "target"), OptionsMarkdown(TargetKeys()));
  EXPECT_NE(doc.find("docs/connectors/"), std::string::npos);
}

}  // namespace
}  // namespace sluice::config
