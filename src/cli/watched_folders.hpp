#pragma once

#include "common/status.hpp"
#include "config/project.hpp"
#include "scheduler/triggers/trigger.hpp"

namespace sluice::cli {

/// How `sluice serve`'s file_arrival triggers list their folders and s3:// prefixes: through the
/// object stores, with the project's `s3:` settings.
Result<scheduler::triggers::OpenFolder> WatchedFolders(const config::ProjectConfig& project);

}  // namespace sluice::cli
