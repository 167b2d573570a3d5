#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "engine/engine.hpp"

namespace sluice::query {

struct SandboxOptions {
  /// Folders SQL may read (the local lake's root, or the read cache of a remote lake); nothing else.
  std::vector<std::filesystem::path> readable_folders;
  /// Where DuckDB may spill; "" = it does not spill.
  std::filesystem::path spill_folder;
  std::string memory_limit;  // "" = DuckDB's default
  int threads = 0;           // 0 = all cores
};

/// A private in-memory DuckDB for queries from the API: it sees only files under the readable
/// folders (enable_external_access=false with allowed_directories), its configuration is locked
/// (no SET, no ATTACH of files, no extension INSTALL/LOAD), and it shares nothing with the
/// pipelines' database. The caller creates the zone.table views on connection() and then runs
/// only statements that CheckReadOnlyQuery accepted.
class SandboxedEngine {
 public:
  static Result<std::unique_ptr<SandboxedEngine>> Open(const SandboxOptions& options);

  engine::Connection& connection() { return *connection_; }

 private:
  SandboxedEngine() = default;
  std::unique_ptr<engine::Database> database_;
  std::unique_ptr<engine::Connection> connection_;
};

/// Accepts exactly one SELECT statement as DuckDB's parser sees it, without binding or running
/// anything (so it may run before the views the query names exist).
Status CheckSingleSelectParsed(engine::Connection& connection, std::string_view sql);

/// CheckSingleSelectParsed, then binds the statement and checks its type is SELECT: anything else
/// is an InvalidArgument whose message says what was refused (a refused file read: "reads outside the
/// lake are not allowed").
Status CheckReadOnlyQuery(engine::Connection& connection, std::string_view sql);

/// Rewords a DuckDB error from the sandbox for the caller: a refused file access becomes
/// "reads outside the lake are not allowed".
Status ExplainSandboxError(const Status& error);

}  // namespace sluice::query
