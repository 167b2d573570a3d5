#include "connectors/sinks/lake/lake_sink.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/fault_point.hpp"
#include "common/strings.hpp"
#include "engine/type_tree.hpp"
#include "storage/lake_layout.hpp"

namespace sluice::connectors {
namespace fs = std::filesystem;

namespace {

/// While DuckDB writes a part's files, asks the kernel every quarter of a second to start
/// writing them to disk (sync_file_range without waiting, as PostgreSQL's backend_flush_after
/// does). The fsync that makes them durable before the commit then finds little left to write,
/// instead of stalling the load for a whole part's worth of disk writes.
class EarlyWriteback {
 public:
  explicit EarlyWriteback(fs::path folder) : folder_(std::move(folder)), thread_([this] { Run(); }) {}
  ~EarlyWriteback() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
    StartWriteback();  // the files' last bytes
  }
  EarlyWriteback(const EarlyWriteback&) = delete;
  EarlyWriteback& operator=(const EarlyWriteback&) = delete;

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stop_; })) {
      lock.unlock();
      StartWriteback();
      lock.lock();
    }
  }

  void StartWriteback() const {
    std::error_code ec;
    for (fs::recursive_directory_iterator it(folder_, ec), end; !ec && it != end; it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      int fd = ::open(it->path().c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;  // a file DuckDB renamed or removed meanwhile: nothing to do
      (void)::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
      ::close(fd);
    }
  }

  fs::path folder_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;  // last: started once the members it uses exist
};

/// One file COPY … RETURN_STATS reported.
struct WrittenFile {
  fs::path local;
  int64_t rows = 0;
  int64_t bytes = 0;
};

Result<std::vector<WrittenFile>> CopyWithStats(engine::Connection& connection, const std::string& select,
                                               const fs::path& target, const std::vector<std::string>& options) {
  std::string sql = fmt::format("COPY ({}) TO {} ({})", select, SqlQuote(target.string()), Join(options, ", "));
  SLUICE_ASSIGN_OR_RETURN(auto stats, connection.Query(sql));
  std::vector<WrittenFile> files;
  for (size_t r = 0; r < stats.rows.size(); ++r) {
    files.push_back({fs::path(stats.Get(r, "filename")), stats.GetInt(r, "count"), stats.GetInt(r, "file_size_bytes")});
  }
  return files;
}

/// DuckDB 1.4 cannot rotate files by size while partitioning ("Can't combine FILE_SIZE_BYTES and
/// PARTITION_BY"), so a partition's file larger than the target is rewritten, next to where it
/// was, as files of about the target size ("<name>-<n>.parquet"), and the big one is removed.
Result<std::vector<WrittenFile>> SplitOversized(engine::Connection& connection, const WrittenFile& file,
                                                uint64_t target_bytes, const fs::path& scratch,
                                                const std::string& field_ids) {
  std::error_code ec;
  fs::remove_all(scratch, ec);
  std::string stem = file.local.stem().string();
  std::vector<std::string> options = {"FORMAT parquet", "COMPRESSION zstd", "RETURN_STATS true",
                                      fmt::format("FILE_SIZE_BYTES {}", target_bytes),
                                      fmt::format("FILENAME_PATTERN {}", SqlQuote(stem + "-{i}"))};
  if (!field_ids.empty()) options.push_back(field_ids);
  SLUICE_ASSIGN_OR_RETURN(auto pieces,
                          CopyWithStats(connection,
                                        fmt::format("SELECT * FROM read_parquet({}, hive_partitioning = false)",
                                                    SqlQuote(file.local.string())),
                                        scratch, options));
  int64_t rows = 0;
  for (auto& piece : pieces) {
    rows += piece.rows;
    fs::path placed = file.local.parent_path() / piece.local.filename();
    fs::rename(piece.local, placed, ec);
    if (ec) return Status::IoError("cannot move '{}' to '{}': {}", piece.local.string(), placed.string(), ec.message());
    piece.local = placed;
  }
  if (rows != file.rows) {
    return Status::Internal("splitting '{}' ({} rows) into files of {} bytes gave {} rows", file.local.string(),
                            file.rows, target_bytes, rows);
  }
  fs::remove(file.local, ec);
  fs::remove_all(scratch, ec);
  return pieces;
}

/// "name: id", or for a column with nested fields "name: {__duckdb_field_id: id, child: …}" (DuckDB's names of
/// the children: struct field names, "element" of a list, "key" and "value" of a map).
std::string FieldIdEntry(const std::string& name, int64_t id, const engine::TypeTree& tree,
                         const std::vector<int64_t>& nested_ids, size_t* next) {
  if (tree.children.empty()) return fmt::format("{}: {}", SqlIdent(name), id);
  std::vector<std::string> parts = {fmt::format("__duckdb_field_id: {}", id)};
  for (const auto& [child_name, child] : tree.children) {
    int64_t child_id = nested_ids[(*next)++];
    parts.push_back(FieldIdEntry(child_name, child_id, child, nested_ids, next));
  }
  return fmt::format("{}: {{{}}}", SqlIdent(name), Join(parts, ", "));
}

/// The FIELD_IDS copy option for the columns `select` has that are written into the files.
Result<std::string> FieldIdsOption(engine::Connection& connection, const LakeWriteRequest& request) {
  if (request.field_ids.empty()) return std::string();
  SLUICE_ASSIGN_OR_RETURN(auto columns, connection.Describe(request.select_sql));
  std::vector<std::string> entries;
  for (const auto& column : columns) {
    bool in_path =
        std::find(request.partition_by.begin(), request.partition_by.end(), column.name) != request.partition_by.end();
    if (in_path) continue;
    for (const auto& ids : request.field_ids) {
      if (ids.name != column.name) continue;
      // Rows of another shape than the table's (an older struct) get the column's own id only.
      auto tree = engine::ParseTypeName(column.type);
      bool nested = !ids.nested_ids.empty() && ids.type == column.type && tree.ok() &&
                    engine::NestedFieldCount(*tree) == static_cast<int>(ids.nested_ids.size());
      size_t next = 0;
      entries.push_back(nested ? FieldIdEntry(ids.name, ids.id, *tree, ids.nested_ids, &next)
                               : fmt::format("{}: {}", SqlIdent(ids.name), ids.id));
    }
  }
  if (entries.empty()) return std::string();
  return fmt::format("FIELD_IDS {{{}}}", Join(entries, ", "));
}

/// SQL aggregating the footer's bound texts (column `value`, one per row group) of a column of DuckDB type `type`
/// with `aggregate` (min or max) as that type, then turning the result into the canonical text of
/// StagedFile::column_stats; "" for types whose bounds are not kept (nested, blobs, intervals, ...).
std::string CanonicalBound(const std::string& type, const std::string& aggregate, const std::string& value) {
  std::string upper = type;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  // Aggregated as the typed value: text would order 10 before 9.
  std::string typed = fmt::format("{}(TRY_CAST({} AS {}))", aggregate, value, type);
  static const char* const kAsIs[] = {"TINYINT",  "SMALLINT", "INTEGER", "BIGINT",  "UTINYINT", "USMALLINT",
                                      "UINTEGER", "FLOAT",    "DOUBLE",  "BOOLEAN", "VARCHAR"};
  for (const char* plain : kAsIs) {
    if (upper == plain) return fmt::format("CAST({} AS VARCHAR)", typed);
  }
  if (upper == "DATE") return fmt::format("CAST(date_diff('day', DATE '1970-01-01', {}) AS VARCHAR)", typed);
  // Zoned timestamps and times are left out: their footer text depends on the session's time zone.
  if (upper == "TIMESTAMP") return fmt::format("CAST(epoch_us({}) AS VARCHAR)", typed);
  if (StartsWith(upper, "DECIMAL(")) {
    // The decimal's text has exactly `scale` digits after the point: without the point it is the unscaled value.
    return fmt::format("CAST(CAST(replace(CAST({} AS VARCHAR), '.', '') AS HUGEINT) AS VARCHAR)", typed);
  }
  return "";
}

/// Value and null counts and bounds per top-level column of a written file, from its footer (row groups
/// combined), as StagedFile::column_stats.
Result<std::string> MeasureColumns(engine::Connection& connection, const fs::path& file,
                                   const std::vector<engine::ColumnDescription>& columns) {
  std::vector<std::string> parts;
  for (const auto& c : columns) {
    std::string min_sql = CanonicalBound(c.type, "min", "stats_min_value");
    std::string max_sql = CanonicalBound(c.type, "max", "stats_max_value");
    parts.push_back(fmt::format(
        "SELECT {} AS name, sum(num_values)::BIGINT AS n, sum(stats_null_count)::BIGINT AS nulls, "
        "count(*) = count(stats_null_count) AS has_nulls, {} AS lo, {} AS hi FROM m WHERE path_in_schema = {}",
        SqlQuote(c.name), min_sql.empty() ? "NULL" : min_sql, max_sql.empty() ? "NULL" : max_sql, SqlQuote(c.name)));
  }
  if (parts.empty()) return std::string();
  std::string sql = fmt::format(
      "WITH m AS (SELECT * FROM parquet_metadata({})) SELECT name, n, nulls, has_nulls, "
      "lo, hi, lo IS NOT NULL AS has_lo, hi IS NOT NULL AS has_hi FROM ({}) s",
      SqlQuote(file.string()), Join(parts, " UNION ALL "));
  SLUICE_ASSIGN_OR_RETURN(auto result, connection.Query(sql));
  nlohmann::json stats = nlohmann::json::object();
  for (size_t r = 0; r < result.rows.size(); ++r) {
    std::string name = result.Get(r, "name");
    if (result.Get(r, "n").empty()) continue;  // a partition column: not in the file
    nlohmann::json column = {{"values", result.GetInt(r, "n")}};
    if (result.Get(r, "has_nulls") == "true") column["nulls"] = result.GetInt(r, "nulls");
    if (result.Get(r, "has_lo") == "true") column["min"] = result.Get(r, "lo");
    if (result.Get(r, "has_hi") == "true") column["max"] = result.Get(r, "hi");
    stats[name] = std::move(column);
  }
  return stats.dump();
}

}  // namespace

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
    // DuckDB writes in parallel only when told the order does not matter; OVERWRITE_OR_IGNORE is
    // how a COPY says so (the staging folder is the run's own, so nothing is overwritten).
    if (request.unordered) options.push_back("OVERWRITE_OR_IGNORE true");
  } else {
    std::vector<std::string> columns;
    for (const auto& c : request.partition_by) columns.push_back(SqlIdent(c));
    // One file per partition per run; SplitOversized below brings big ones to the target size.
    options.push_back(fmt::format("PARTITION_BY ({})", Join(columns, ", ")));
    options.push_back("OVERWRITE_OR_IGNORE true");
  }
  SLUICE_ASSIGN_OR_RETURN(std::string field_ids, FieldIdsOption(connection, request));
  if (!field_ids.empty()) options.push_back(field_ids);
  std::vector<WrittenFile> written;
  {
    EarlyWriteback writeback(target);
    SLUICE_ASSIGN_OR_RETURN(written, CopyWithStats(connection, request.select_sql, target, options));
  }
  if (!request.partition_by.empty()) {
    std::vector<WrittenFile> sized;
    int split = 0;
    for (const auto& w : written) {
      if (w.rows == 0 || static_cast<uint64_t>(w.bytes) <= request.target_file_bytes) {
        sized.push_back(w);
        continue;
      }
      SLUICE_ASSIGN_OR_RETURN(auto pieces,
                              SplitOversized(connection, w, request.target_file_bytes,
                                             request.staging_dir / fmt::format(".split-{}", split++), field_ids));
      sized.insert(sized.end(), pieces.begin(), pieces.end());
    }
    written = std::move(sized);
  }

  SLUICE_ASSIGN_OR_RETURN(auto columns, connection.Describe(request.select_sql));
  std::vector<StagedFile> files;
  for (const auto& w : written) {
    const fs::path& local = w.local;
    int64_t rows = w.rows;
    if (rows == 0) {
      fs::remove(local, ec);
      continue;
    }
    std::string relative = local.lexically_relative(request.staging_dir).generic_string();
    StagedFile file;
    file.local = local;
    file.key = request.data_prefix + "/" + relative;
    file.rows = rows;
    file.bytes = w.bytes;
    file.partition_values = storage::ParsePartitionPath(relative);
    SLUICE_ASSIGN_OR_RETURN(file.column_stats, MeasureColumns(connection, local, columns));
    files.push_back(std::move(file));
  }
  return files;
}

Status UploadStaged(storage::ObjectStore& store, const std::vector<StagedFile>& files) {
  for (const auto& f : files) {
    SLUICE_TRY(store.PutFile(f.key, f.local, /*consume=*/true)
                   .WithContext("uploading {} to {}", f.local.string(), store.Describe()));
    SLUICE_FAULT_POINT("mid_upload");
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
