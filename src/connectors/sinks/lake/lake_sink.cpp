#include "connectors/sinks/lake/lake_sink.hpp"

#include <spdlog/spdlog.h>

#include "common/strings.hpp"
#include "storage/lake_layout.hpp"

namespace sluice::connectors {
namespace fs = std::filesystem;

Result<std::vector<StagedFile>> WriteParquetToStaging(engine::Connection& connection, const LakeWriteRequest& request) {
  std::string fixed = storage::PartitionPath(request.fixed_partitions);
  fs::path target = fixed.empty() ? request.staging_dir : request.staging_dir / fixed;
  std::error_code ec;
  fs::create_directories(target, ec);
  if (ec) return Status::IoError("cannot create staging folder '{}': {}", target.string(), ec.message());

  std::vector<std::string> options = {"FORMAT parquet", "COMPRESSION zstd", "RETURN_STATS true",
                                      fmt::format("FILENAME_PATTERN {}", SqlQuote(request.file_prefix + "-{i}"))};
  if (request.partition_by.empty()) {
    options.push_back(fmt::format("FILE_SIZE_BYTES {}", request.target_file_bytes));
  } else {
    std::vector<std::string> columns;
    for (const auto& c : request.partition_by) columns.push_back(SqlIdent(c));
    // DuckDB cannot rotate files by size while partitioning: one file per partition per run.
    options.push_back(fmt::format("PARTITION_BY ({})", Join(columns, ", ")));
    options.push_back("OVERWRITE_OR_IGNORE true");
  }
  std::string sql = fmt::format("COPY ({}) TO {} ({})", request.select_sql, SqlQuote(target.string()),
                                Join(options, ", "));
  SLUICE_ASSIGN_OR_RETURN(auto stats, connection.Query(sql));

  std::vector<StagedFile> files;
  for (size_t r = 0; r < stats.rows.size(); ++r) {
    fs::path local = stats.Get(r, "filename");
    int64_t rows = stats.GetInt(r, "count");
    if (rows == 0) {
      fs::remove(local, ec);
      continue;
    }
    std::string relative = local.lexically_relative(request.staging_dir).generic_string();
    StagedFile file;
    file.local = local;
    file.key = request.data_prefix + "/" + relative;
    file.rows = rows;
    file.bytes = stats.GetInt(r, "file_size_bytes");
    file.partition_values = storage::ParsePartitionPath(relative);
    files.push_back(std::move(file));
  }
  return files;
}

Status UploadStaged(storage::ObjectStore& store, const std::vector<StagedFile>& files) {
  for (const auto& f : files) {
    SLUICE_TRY(store.PutFile(f.key, f.local, /*consume=*/true).WithContext("uploading {} to {}", f.local.string(),
                                                                           store.Describe()));
  }
  return Status::OK();
}

void DiscardUploaded(storage::ObjectStore& store, const std::vector<StagedFile>& files) {
  std::vector<std::string> keys;
  for (const auto& f : files) keys.push_back(f.key);
  Status st = store.DeleteMany(keys);
  if (!st.ok()) spdlog::warn("could not remove uncommitted files ({}); `sluice maintain vacuum` will", st.message());
}

}  // namespace sluice::connectors
