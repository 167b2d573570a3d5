#pragma once

// Keeps the option table of a plug-in's page in docs/ equal to the one generated from its
// descriptor; with SLUICE_UPDATE_DOCS=1 it rewrites the table instead of comparing.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/option_reader.hpp"
#include "config/options.hpp"
#include "unit/docs_support.hpp"

namespace sluice::test_support {

inline void ExpectOptionTableCurrent(const std::string& relative_doc, const std::vector<config::OptionSpec>& options) {
  for (const auto& bad : config::InvalidDefaults(options)) ADD_FAILURE() << relative_doc << ": option " << bad;
  std::filesystem::path doc = DocsSourceDir() / relative_doc;
  std::string content = ReadSourceFile(relative_doc);
  const std::string begin = "<!-- options:begin -->\n", end = "<!-- options:end -->";
  auto b = content.find(begin), e = content.find(end);
  ASSERT_TRUE(b != std::string::npos && e != std::string::npos) << doc << " lacks the options markers";
  std::string generated = config::OptionsMarkdown(options);
  if (std::getenv("SLUICE_UPDATE_DOCS") != nullptr) {
    content.replace(b + begin.size(), e - b - begin.size(), generated);
    std::ofstream(doc) << content;
    return;
  }
  EXPECT_EQ(content.substr(b + begin.size(), e - b - begin.size()), generated)
      << doc << " is stale: run the connectors tests with SLUICE_UPDATE_DOCS=1";
}

}  // namespace sluice::test_support
