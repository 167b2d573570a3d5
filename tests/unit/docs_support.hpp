#pragma once

// For tests that keep a document in docs/ equal to what the code generates.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace sluice::test_support {

/// The checkout's root: $SLUICE_SOURCE_DIR under ctest, else the build's fallback.
inline std::filesystem::path DocsSourceDir() {
  if (const char* root = std::getenv("SLUICE_SOURCE_DIR"); root != nullptr && *root != '\0') return root;
  return SLUICE_SOURCE_DIR_DEFAULT;
}

/// The text of `relative` under the checkout ("" when it cannot be read).
inline std::string ReadSourceFile(const std::string& relative) {
  std::ifstream in(DocsSourceDir() / relative);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The text between <!-- keys:NAME:begin --> and <!-- keys:NAME:end -->, or "(missing)".
inline std::string KeysSection(const std::string& doc, const std::string& name) {
  std::string begin = "<!-- keys:" + name + ":begin -->\n";
  std::string end = "<!-- keys:" + name + ":end -->";
  size_t b = doc.find(begin);
  size_t e = doc.find(end);
  if (b == std::string::npos || e == std::string::npos || e < b) return "(missing)";
  return doc.substr(b + begin.size(), e - b - begin.size());
}

/// Expects the keys:NAME section of `relative_doc` to equal `generated`; with SLUICE_UPDATE_DOCS=1
/// rewrites the section instead.
inline std::string UpdateOrCompareKeysSection(const std::string& relative_doc, const std::string& name,
                                              const std::string& generated) {
  std::string doc = ReadSourceFile(relative_doc);
  std::string current = KeysSection(doc, name);
  if (current == "(missing)") return relative_doc + " lacks <!-- keys:" + name + ":begin/end --> markers";
  if (std::getenv("SLUICE_UPDATE_DOCS") != nullptr) {
    std::string begin = "<!-- keys:" + name + ":begin -->\n";
    doc.replace(doc.find(begin) + begin.size(), current.size(), generated);
    std::ofstream(DocsSourceDir() / relative_doc) << doc;
    return "";
  }
  if (current != generated) {
    return relative_doc + " section " + name + " is stale: run its docs test with SLUICE_UPDATE_DOCS=1\nexpected:\n" +
           generated + "found:\n" + current;
  }
  return "";
}

}  // namespace sluice::test_support
