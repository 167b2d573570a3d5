#include "catalog/metadata_store.hpp"

#include <filesystem>

#include "catalog/sqlite_metadata_store.hpp"
#include "common/strings.hpp"

namespace sluice::catalog {

Result<std::unique_ptr<MetadataStore>> OpenMetadataStore(const std::string& location,
                                                         std::shared_ptr<const Clock> clock) {
  std::string path = Trim(location);
  if (path.empty()) {
    return Status::Invalid(
        "the catalog location is empty; set `catalog:` in sluice.yaml to a file such as "
        ".sluice/catalog.db");
  }
  std::string lower = ToLower(path);
  // The URL is not echoed: it may carry a password.
  if (StartsWith(lower, "postgresql://") || StartsWith(lower, "postgres://")) {
    return Status::Invalid(
        "catalog: the PostgreSQL metadata store is not built yet; set `catalog:` to a SQLite "
        "file path such as .sluice/catalog.db");
  }
  if (StartsWith(lower, "sqlite:")) path = path.substr(std::string_view("sqlite:").size());
  if (path.find("://") != std::string::npos) {
    return Status::Invalid(
        "catalog: unsupported location scheme in '{}'; use a SQLite file path such as "
        ".sluice/catalog.db",
        path.substr(0, path.find("://") + 3));
  }
  if (path.empty()) return Status::Invalid("catalog 'sqlite:' needs a file path after the colon");

  std::filesystem::path file(path);
  if (file.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) {
      return Status::IoError("catalog {}: cannot create folder {}: {}", path, file.parent_path().string(),
                             ec.message());
    }
  }
  SLUICE_ASSIGN_OR_RETURN(auto store, SqliteMetadataStore::Open(file, std::move(clock)));
  return std::unique_ptr<MetadataStore>(std::move(store));
}

}  // namespace sluice::catalog
