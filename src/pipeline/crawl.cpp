#include "pipeline/crawl.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>

#include "common/strings.hpp"
#include "pipeline/maintenance.hpp"
#include "storage/s3/s3_object_store.hpp"

namespace sluice::pipeline {
namespace fs = std::filesystem;
namespace {

enum class CrawlFormat { kParquet, kCsv, kJson };

std::optional<CrawlFormat> FormatOf(const fs::path& file) {
  std::string name = ToLower(file.filename().string());
  if (EndsWith(name, ".gz")) name.resize(name.size() - 3);
  if (EndsWith(name, ".parquet")) return CrawlFormat::kParquet;
  if (EndsWith(name, ".csv") || EndsWith(name, ".tsv")) return CrawlFormat::kCsv;
  if (EndsWith(name, ".json") || EndsWith(name, ".jsonl") || EndsWith(name, ".ndjson")) return CrawlFormat::kJson;
  return std::nullopt;
}

int64_t MtimeMicros(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000 + st.st_mtim.tv_nsec / 1000;
}

/// A folder name as a table name: lowercase letters, digits and '_'.
std::string TableNameOf(const std::string& folder) {
  std::string out;
  for (char c : ToLower(folder)) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

struct FoundFile {
  fs::path local;          // the file, or where a remote one is downloaded to
  std::string remote_key;  // key in the crawled store; "" for a local file
  std::string relative;    // to the table folder, '/'-separated
  std::string identity;    // what the catalog remembers as crawled: canonical path or s3://bucket/key
  CrawlFormat format;
  std::vector<std::pair<std::string, std::string>> partition_values;
  int64_t size = 0, mtime_us = 0;
  std::string etag;  // remote files are known by key, size and ETag (mtime 0)
};

/// The folder of one table: local, or a key prefix of an S3 bucket.
struct TableFolder {
  std::string display;  // local path or s3://bucket/prefix
  std::vector<FoundFile> files;
  /// The folder's key in the lake when it lies under the lake root (files can stay where they are).
  std::optional<std::string> lake_key;
};

/// Hidden and marker files (.x, _SUCCESS, *.crc) are not data.
bool IsDataFileName(const std::string& name) {
  return !(StartsWith(name, ".") || StartsWith(name, "_") || EndsWith(name, ".crc"));
}

/// A data file `relative` to its table folder, with the k=v/ folders it sits in; nullopt when not data.
std::optional<FoundFile> DataFileAt(const std::string& relative) {
  std::string name = relative.substr(relative.rfind('/') + 1);
  if (!IsDataFileName(name)) return std::nullopt;
  auto format = FormatOf(name);
  if (!format) return std::nullopt;
  FoundFile f;
  f.relative = relative;
  f.format = *format;
  auto segments = Split(f.relative, '/');
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    auto eq = segments[i].find('=');
    if (eq != std::string::npos && eq > 0)
      f.partition_values.emplace_back(segments[i].substr(0, eq), segments[i].substr(eq + 1));
  }
  return f;
}

/// Data files under `folder`.
Result<std::vector<FoundFile>> FindDataFiles(const fs::path& folder) {
  std::vector<FoundFile> found;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(folder, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Status::IoError("cannot list '{}': {}", folder.string(), ec.message());
    if (!it->is_regular_file(ec)) continue;
    auto f = DataFileAt(it->path().lexically_relative(folder).generic_string());
    if (!f) continue;
    f->local = it->path();
    f->identity = fs::weakly_canonical(f->local).string();
    f->size = static_cast<int64_t>(it->file_size(ec));
    f->mtime_us = MtimeMicros(f->local);
    found.push_back(std::move(*f));
  }
  std::sort(found.begin(), found.end(), [](const FoundFile& a, const FoundFile& b) { return a.relative < b.relative; });
  return found;
}

std::string ReaderSql(CrawlFormat format, const fs::path& file) {
  switch (format) {
    case CrawlFormat::kCsv: return fmt::format("read_csv({})", SqlQuote(file.string()));
    case CrawlFormat::kJson: return fmt::format("read_json({})", SqlQuote(file.string()));
    case CrawlFormat::kParquet: return fmt::format("read_parquet({})", SqlQuote(file.string()));
  }
  return "";
}

class TableCrawler {
 public:
  TableCrawler(catalog::MetadataStore& catalog, storage::ObjectStore& lake, engine::Connection& connection,
               const CrawlRequest& request)
      : catalog_(catalog), lake_(lake), connection_(connection), request_(request) {}

  /// `source` is the store remote files are downloaded from (null when the folder is local).
  Result<CrawledTable> Run(TableFolder table_folder, const catalog::TableName& name, storage::ObjectStore* source) {
    CrawledTable out;
    out.table = name.ToString();
    auto& files = table_folder.files;
    const std::string& folder = table_folder.display;
    if (files.empty()) {
      return Status::NotFound("{} holds no Parquet, CSV or JSON files to register as {}", folder, out.table);
    }
    for (const auto& f : files) {
      if (f.format != files.front().format) {
        return Status::Invalid(
            "{} mixes file formats ('{}' and '{}'); crawl each format's folder as its own table "
            "with --table",
            folder, files.front().relative, f.relative);
      }
      std::vector<std::string> keys, first_keys;
      for (const auto& [k, v] : f.partition_values) keys.push_back(k);
      for (const auto& [k, v] : files.front().partition_values) first_keys.push_back(k);
      if (keys != first_keys) {
        return Status::Invalid(
            "{}: '{}' and '{}' have different partition folders ({} vs {}); a table's files must "
            "share one k=v/ layout",
            folder, files.front().relative, f.relative, Join(first_keys, "/"), Join(keys, "/"));
      }
    }
    for (const auto& [k, v] : files.front().partition_values) out.partition_columns.push_back(k);

    const std::string scope = "crawl:" + out.table;
    SLUICE_ASSIGN_OR_RETURN(auto loaded, catalog_.LoadedFiles(scope));
    std::set<std::tuple<std::string, int64_t, int64_t, std::string>> known;
    for (const auto& l : loaded) known.emplace(l.path, l.size, l.mtime_us, l.content_hash);

    // Parquet under the lake root stays where it is; anything else gets a key of its own.
    bool in_place = table_folder.lake_key && files.front().format == CrawlFormat::kParquet;
    std::string location = in_place ? *table_folder.lake_key : request_.zone + "/crawled/" + name.name;
    out.placement = in_place                                        ? "referenced in place"
                    : files.front().format == CrawlFormat::kParquet ? "copied into the lake"
                                                                    : "converted to Parquet in the lake";

    catalog::TableChange change;
    change.table = name;
    change.operation = catalog::WriteOperation::kAppend;
    change.location = location;
    change.source = kCrawledSourcePrefix + folder;
    change.partition_columns = out.partition_columns;
    catalog::CommitRequest commit;
    std::vector<std::pair<fs::path, std::string>> to_upload;  // local file, key
    std::vector<std::string> readable_paths;
    std::vector<fs::path> downloads_to_drop;  // local copies of files that stay in place remotely
    struct DropDownloads {
      std::vector<fs::path>& paths;
      ~DropDownloads() {
        std::error_code ec;
        for (const auto& p : paths) fs::remove(p, ec);
      }
    } drop_downloads{downloads_to_drop};
    for (auto& f : files) {
      if (known.count({f.identity, f.size, f.mtime_us, f.etag}) > 0) {
        ++out.files_known;
        continue;
      }
      if (!f.remote_key.empty()) {
        f.local = request_.scratch / "download" / name.name / f.relative;
        Status st = source->GetToFile(f.remote_key, f.local);
        if (!st.ok()) return st.WithContext("crawl: downloading {}", f.identity);
        if (in_place) downloads_to_drop.push_back(f.local);
      }
      catalog::DataFile data;
      data.partition_values = f.partition_values;
      fs::path readable = f.local;
      std::string relative = f.relative;
      if (f.format != CrawlFormat::kParquet) {
        if (EndsWith(ToLower(relative), ".gz")) relative.resize(relative.size() - 3);
        relative = relative.substr(0, relative.rfind('.')) + ".parquet";
        readable = request_.scratch / name.name / relative;
        fs::create_directories(readable.parent_path());
        Status st = connection_.Execute(fmt::format("COPY (SELECT * FROM {}) TO {} (FORMAT parquet, COMPRESSION zstd)",
                                                    ReaderSql(f.format, f.local), SqlQuote(readable.string())));
        if (!st.ok()) {
          return st.WithContext("converting {} to Parquet (is it valid {}?)", f.identity,
                                f.format == CrawlFormat::kCsv ? "CSV" : "JSON");
        }
      }
      data.path = location + "/" + relative;
      if (!in_place) to_upload.emplace_back(readable, data.path);
      SLUICE_ASSIGN_OR_RETURN(auto count, connection_.Query(fmt::format("SELECT count(*) AS n FROM read_parquet({})",
                                                                        SqlQuote(readable.string()))));
      data.rows = count.GetInt(0, "n");
      std::error_code ec;
      data.bytes = static_cast<int64_t>(fs::file_size(readable, ec));
      readable_paths.push_back(SqlQuote(readable.string()));
      out.rows_added += data.rows;
      change.added.push_back(std::move(data));
      commit.loaded_files.push_back({scope, f.identity, f.size, f.mtime_us, f.etag});
    }
    out.files_added = static_cast<int64_t>(change.added.size());
    if (change.added.empty()) return out;

    SLUICE_ASSIGN_OR_RETURN(auto existing, catalog_.GetTable(name));
    catalog::Schema schema;
    if (existing) schema = existing->schema;
    // Hive partition folders become columns, as they do for queries.
    SLUICE_ASSIGN_OR_RETURN(
        auto columns, connection_.Describe(fmt::format("SELECT * FROM read_parquet([{}], hive_partitioning = true, "
                                                       "union_by_name = true)",
                                                       Join(readable_paths, ", "))));
    for (const auto& c : columns) {
      auto it = std::find_if(schema.columns.begin(), schema.columns.end(),
                             [&](const catalog::Column& known_column) { return known_column.name == c.name; });
      if (it == schema.columns.end()) schema.columns.push_back({c.name, c.type, true});
    }
    change.schema = schema;

    std::vector<std::string> uploaded;
    auto discard = [&] {
      if (!uploaded.empty()) (void)lake_.DeleteMany(uploaded);
    };
    for (const auto& [local, key] : to_upload) {
      // Originals are copied (they are not ours); converted and downloaded files are ours to move.
      bool ours = StartsWith(local.string(), request_.scratch.string());
      Status st = lake_.PutFile(key, local, /*consume=*/ours);
      if (!st.ok()) {
        discard();
        return st.WithContext("uploading {} to {}", local.string(), lake_.Describe());
      }
      uploaded.push_back(key);
    }
    commit.run_id = request_.run_id;
    commit.pipeline = "catalog";
    commit.job = "crawl";
    commit.tables.push_back(std::move(change));
    auto result = catalog_.Commit(commit);
    if (!result.ok()) {
      discard();
      return result.status().WithContext("registering {}", out.table);
    }
    out.version = result->versions.empty() ? 0 : result->versions.front();
    return out;
  }

 private:
  catalog::MetadataStore& catalog_;
  storage::ObjectStore& lake_;
  engine::Connection& connection_;
  const CrawlRequest& request_;
};

/// The key of `uri` (s3://bucket/prefix) inside `lake` when the lake is on S3 and holds it.
std::optional<std::string> LakeKeyOfS3Folder(storage::ObjectStore& lake, const std::string& bucket,
                                             const std::string& prefix) {
  auto lake_location = storage::s3::ParseS3Uri(lake.Describe());
  if (!lake_location.ok() || !StartsWith(lake.Describe(), "s3://") || lake_location->first != bucket)
    return std::nullopt;
  const std::string& lake_prefix = lake_location->second;
  if (prefix.empty()) return std::nullopt;  // the bucket's root is no table folder of the lake
  if (lake_prefix.empty()) return prefix;
  if (StartsWith(prefix, lake_prefix + "/")) return prefix.substr(lake_prefix.size() + 1);
  return std::nullopt;
}

/// The key of local `folder` inside `lake` when the lake is a local folder holding it.
std::optional<std::string> LakeKeyOfLocalFolder(storage::ObjectStore& lake, const fs::path& folder) {
  auto lake_root = lake.LocalPath("x");
  if (!lake_root) return std::nullopt;
  auto in_lake = fs::weakly_canonical(folder).lexically_relative(fs::weakly_canonical(lake_root->parent_path()));
  if (in_lake.empty() || *in_lake.begin() == ".." || in_lake == ".") return std::nullopt;
  return in_lake.generic_string();
}

Result<std::vector<std::pair<TableFolder, std::string>>> LocalTables(storage::ObjectStore& lake,
                                                                     const CrawlRequest& request) {
  fs::path path = fs::absolute(request.path);
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return Status::NotFound("{} is not a folder", path.string());
  std::vector<std::pair<fs::path, std::string>> folders;
  if (!request.table.empty()) {
    folders.emplace_back(path, request.table);
  } else {
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      std::string name = entry.path().filename().string();
      if (entry.is_directory() && !StartsWith(name, ".") && !StartsWith(name, "_")) {
        folders.emplace_back(entry.path(), TableNameOf(name));
      }
    }
    std::sort(folders.begin(), folders.end());
    if (folders.empty()) {
      return Status::NotFound(
          "{} has no sub-folders to register as tables; give --table NAME to register the folder "
          "itself",
          path.string());
    }
  }
  std::vector<std::pair<TableFolder, std::string>> tables;
  for (const auto& [folder, table] : folders) {
    TableFolder t;
    t.display = fs::weakly_canonical(folder).string();
    SLUICE_ASSIGN_OR_RETURN(t.files, FindDataFiles(folder));
    t.lake_key = LakeKeyOfLocalFolder(lake, folder);
    tables.emplace_back(std::move(t), table);
  }
  return tables;
}

/// Tables under an S3 prefix: one listing (paginated), grouped by the first folder below the prefix.
Result<std::vector<std::pair<TableFolder, std::string>>> S3Tables(storage::ObjectStore& lake,
                                                                  storage::ObjectStore& store,
                                                                  const std::string& bucket, const std::string& prefix,
                                                                  const CrawlRequest& request) {
  std::string base = prefix.empty() ? "" : prefix + "/";
  SLUICE_ASSIGN_OR_RETURN(auto objects, store.List(base));
  std::map<std::string, TableFolder> folders;  // table name -> folder
  for (const auto& object : objects) {
    std::string relative = object.key.substr(base.size());
    std::string folder_key = prefix;
    std::string table = request.table;
    if (table.empty()) {
      size_t slash = relative.find('/');
      if (slash == std::string::npos) continue;  // files next to the table folders belong to none of them
      std::string folder_name = relative.substr(0, slash);
      if (StartsWith(folder_name, ".") || StartsWith(folder_name, "_")) continue;
      folder_key = base + folder_name;
      relative = relative.substr(slash + 1);
      table = TableNameOf(folder_name);
    }
    auto f = DataFileAt(relative);
    TableFolder& t = folders[table];
    if (t.display.empty()) {
      t.display = fmt::format("s3://{}/{}", bucket, folder_key);
      t.lake_key = LakeKeyOfS3Folder(lake, bucket, folder_key);
    }
    if (!f) continue;
    f->remote_key = object.key;
    f->identity = fmt::format("s3://{}/{}", bucket, object.key);
    f->size = static_cast<int64_t>(object.size);
    f->etag = object.etag;
    t.files.push_back(std::move(*f));
  }
  std::string uri = fmt::format("s3://{}/{}", bucket, prefix);
  if (folders.empty()) {
    if (!request.table.empty()) {
      return Status::NotFound("{} holds no objects to register as {}.{}", uri, request.zone, request.table);
    }
    return Status::NotFound(
        "{} has no sub-folders to register as tables; give --table NAME to register the prefix "
        "itself",
        uri);
  }
  std::vector<std::pair<TableFolder, std::string>> tables;
  for (auto& [table, folder] : folders) {
    std::sort(folder.files.begin(), folder.files.end(),
              [](const FoundFile& a, const FoundFile& b) { return a.relative < b.relative; });
    tables.emplace_back(std::move(folder), table);
  }
  return tables;
}

}  // namespace

Result<std::vector<CrawledTable>> Crawl(catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                                        engine::Connection& connection, const CrawlRequest& request) {
  std::unique_ptr<storage::ObjectStore> remote;
  std::vector<std::pair<TableFolder, std::string>> tables;
  if (StartsWith(ToLower(request.path), "s3://")) {
    SLUICE_ASSIGN_OR_RETURN(auto location, storage::s3::ParseS3Uri(request.path));
    SLUICE_ASSIGN_OR_RETURN(
        remote, storage::OpenObjectStore("s3://" + location.first, request.s3, storage::s3::ProcessEnvironment()));
    SLUICE_ASSIGN_OR_RETURN(tables, S3Tables(lake, *remote, location.first, location.second, request));
  } else {
    SLUICE_ASSIGN_OR_RETURN(tables, LocalTables(lake, request));
  }
  std::vector<CrawledTable> out;
  TableCrawler crawler(catalog, lake, connection, request);
  for (auto& [folder, table] : tables) {
    SLUICE_ASSIGN_OR_RETURN(auto name, catalog::TableName::Parse(request.zone + "." + table));
    SLUICE_ASSIGN_OR_RETURN(auto crawled, crawler.Run(std::move(folder), name, remote.get()));
    out.push_back(std::move(crawled));
  }
  return out;
}

}  // namespace sluice::pipeline
