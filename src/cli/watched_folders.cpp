#include "cli/watched_folders.hpp"

#include <memory>

#include "connectors/s3_settings.hpp"
#include "storage/object_store.hpp"

namespace sluice::cli {

Result<scheduler::triggers::OpenFolder> WatchedFolders(const config::ProjectConfig& project) {
  SLUICE_ASSIGN_OR_RETURN(auto s3, connectors::S3OptionsFromConfig(project.s3));
  return scheduler::triggers::OpenFolder([s3](const std::string& location) -> Result<scheduler::triggers::ListFolder> {
    SLUICE_ASSIGN_OR_RETURN(auto opened, storage::OpenObjectStore(location, s3, storage::s3::ProcessEnvironment()));
    std::shared_ptr<storage::ObjectStore> store = std::move(opened);
    return scheduler::triggers::ListFolder([store]() -> Result<std::vector<scheduler::triggers::ListedFile>> {
      SLUICE_ASSIGN_OR_RETURN(auto objects, store->List(""));
      std::vector<scheduler::triggers::ListedFile> files;
      files.reserve(objects.size());
      for (auto& object : objects) files.push_back({std::move(object.key), object.size, std::move(object.etag)});
      return files;
    });
  });
}

}  // namespace sluice::cli
