#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/secret.hpp"
#include "common/status.hpp"
#include "config/options.hpp"
#include "config/value.hpp"

namespace sluice::config {

struct LoadOptions {
  std::string env;  // "" = no overlay
  std::shared_ptr<Redactor> redactor;
  std::function<std::optional<std::string>(const std::string&)> getenv;  // default ::getenv
};

struct ProjectConfig {
  std::filesystem::path root;  // absolute folder of sluice.yaml
  std::filesystem::path file;  // absolute path of sluice.yaml
  std::string project;         // default: the folder's name
  /// Absolute local path (relative ones resolved against root) or "s3://…" as written; default <root>/lake.
  std::string lake;
  /// Absolute SQLite path (resolved against root) or "postgresql://…"; default <root>/.sluice/catalog.db.
  std::string catalog;
  std::string table_format = "none";      // none | iceberg
  std::string env;                        // active environment or ""
  std::vector<std::string> environments;  // names defined under environments:, file order
  Value s3, connections, notifications, server, query, engine, defaults, masking;  // null Value when absent
  Value raw;  // the whole merged document (without the environments: section, which the overlay consumed)
  /// Parts of the file whose ${env:}/${file:} references could not be resolved here, by the key that
  /// names the part ("connections.warehouse", "notifications.ops", "server", "streams"), with the
  /// problems. A command fails on one only when it uses that part — `sluice runs` does not need the
  /// warehouse password — and `sluice validate` reports them all.
  std::map<std::string, std::string> unresolved;

  /// OK, or the problems of `part` (a key of `unresolved`) naming `user` as the one that needs it.
  Status CheckResolved(const std::string& part, std::string_view user) const;
};

/// Keys of sluice.yaml and of its s3: and masking: sections (validation and docs/configuration.md).
const std::vector<OptionSpec>& ProjectKeys();
const std::vector<OptionSpec>& S3Keys();
const std::vector<OptionSpec>& MaskingKeys();
/// Keys of the query: section.
const std::vector<OptionSpec>& QueryKeys();
/// The keys of `engine:` (the embedded engine of every command), validated when sluice.yaml is read.
const std::vector<OptionSpec>& EngineKeys();
/// The keys of `server:` (sluice serve), validated when sluice.yaml is read.
const std::vector<OptionSpec>& ServerKeys();

/// `path` is sluice.yaml or the folder holding it. Applies `environments.<env>` (deep merge of maps; lists and
/// scalars replace) before reading keys, then resolves ${...} references (those of other environments are
/// never resolved; those of the parts ProjectConfig::unresolved names are reported when a part is
/// used); an unknown env is an error listing the defined ones. Unknown keys (top level, s3:) are
/// errors with a nearest-key hint; `connections.<name>` and `notifications.<name>` must be maps with a `type`.
/// All problems of the file come back in one Status.
Result<ProjectConfig> LoadProject(const std::filesystem::path& path, const LoadOptions& options);

/// `text` as an absolute, normalised path: relative ones start at the project root.
std::filesystem::path ResolveProjectPath(const ProjectConfig& project, std::string_view text);

}  // namespace sluice::config
