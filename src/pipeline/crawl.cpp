#include "pipeline/crawl.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>

#include "common/strings.hpp"
#include "pipeline/maintenance.hpp"

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
  fs::path local;
  std::string relative;  // to the table folder, '/'-separated
  CrawlFormat format;
  std::vector<std::pair<std::string, std::string>> partition_values;
  int64_t size = 0, mtime_us = 0;
};

/// Data files under `folder`; hidden and marker files (.x, _SUCCESS, *.crc) are not data.
Result<std::vector<FoundFile>> FindDataFiles(const fs::path& folder) {
  std::vector<FoundFile> found;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(folder, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Status::IoError("cannot list '{}': {}", folder.string(), ec.message());
    if (!it->is_regular_file(ec)) continue;
    std::string name = it->path().filename().string();
    if (StartsWith(name, ".") || StartsWith(name, "_") || EndsWith(name, ".crc")) continue;
    auto format = FormatOf(it->path());
    if (!format) continue;
    FoundFile f;
    f.local = it->path();
    f.relative = it->path().lexically_relative(folder).generic_string();
    f.format = *format;
    auto segments = Split(f.relative, '/');
    for (size_t i = 0; i + 1 < segments.size(); ++i) {
      auto eq = segments[i].find('=');
      if (eq != std::string::npos && eq > 0) f.partition_values.emplace_back(segments[i].substr(0, eq), segments[i].substr(eq + 1));
    }
    f.size = static_cast<int64_t>(it->file_size(ec));
    f.mtime_us = MtimeMicros(f.local);
    found.push_back(std::move(f));
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

  Result<CrawledTable> Run(const fs::path& folder, const catalog::TableName& name) {
    CrawledTable out;
    out.table = name.ToString();
    SLUICE_ASSIGN_OR_RETURN(auto files, FindDataFiles(folder));
    if (files.empty()) {
      return Status::NotFound("{} holds no Parquet, CSV or JSON files to register as {}", folder.string(), out.table);
    }
    for (const auto& f : files) {
      if (f.format != files.front().format) {
        return Status::Invalid("{} mixes file formats ('{}' and '{}'); crawl each format's folder as its own table "
                               "with --table",
                               folder.string(), files.front().relative, f.relative);
      }
      std::vector<std::string> keys, first_keys;
      for (const auto& [k, v] : f.partition_values) keys.push_back(k);
      for (const auto& [k, v] : files.front().partition_values) first_keys.push_back(k);
      if (keys != first_keys) {
        return Status::Invalid("{}: '{}' and '{}' have different partition folders ({} vs {}); a table's files must "
                               "share one k=v/ layout",
                               folder.string(), files.front().relative, f.relative, Join(first_keys, "/"),
                               Join(keys, "/"));
      }
    }
    for (const auto& [k, v] : files.front().partition_values) out.partition_columns.push_back(k);

    const std::string scope = "crawl:" + out.table;
    SLUICE_ASSIGN_OR_RETURN(auto loaded, catalog_.LoadedFiles(scope));
    std::set<std::tuple<std::string, int64_t, int64_t>> known;
    for (const auto& l : loaded) known.emplace(l.path, l.size, l.mtime_us);

    // Parquet under the lake root stays where it is; anything else gets a key of its own.
    auto lake_root = lake_.LocalPath("x");
    fs::path root = lake_root ? fs::weakly_canonical(lake_root->parent_path()) : fs::path();
    fs::path canonical = fs::weakly_canonical(folder);
    auto in_lake = canonical.lexically_relative(root);
    bool in_place = lake_root && files.front().format == CrawlFormat::kParquet && !in_lake.empty() &&
                    *in_lake.begin() != "..";
    std::string location = in_place ? in_lake.generic_string() : request_.zone + "/crawled/" + name.name;
    out.placement = in_place ? "referenced in place"
                    : files.front().format == CrawlFormat::kParquet ? "copied into the lake"
                                                                     : "converted to Parquet in the lake";

    catalog::TableChange change;
    change.table = name;
    change.operation = catalog::WriteOperation::kAppend;
    change.location = location;
    change.source = kCrawledSourcePrefix + canonical.string();
    change.partition_columns = out.partition_columns;
    catalog::CommitRequest commit;
    std::vector<std::pair<fs::path, std::string>> to_upload;  // local file, key
    std::vector<std::string> readable_paths;
    for (const auto& f : files) {
      std::string identity = fs::weakly_canonical(f.local).string();
      if (known.count({identity, f.size, f.mtime_us}) > 0) {
        ++out.files_known;
        continue;
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
          return st.WithContext("converting {} to Parquet (is it valid {}?)", f.local.string(),
                                f.format == CrawlFormat::kCsv ? "CSV" : "JSON");
        }
      }
      data.path = location + "/" + relative;
      if (!in_place) to_upload.emplace_back(readable, data.path);
      SLUICE_ASSIGN_OR_RETURN(auto count, connection_.Query(fmt::format(
                                              "SELECT count(*) AS n FROM read_parquet({})", SqlQuote(readable.string()))));
      data.rows = count.GetInt(0, "n");
      std::error_code ec;
      data.bytes = static_cast<int64_t>(fs::file_size(readable, ec));
      readable_paths.push_back(SqlQuote(readable.string()));
      out.rows_added += data.rows;
      change.added.push_back(std::move(data));
      commit.loaded_files.push_back({scope, identity, f.size, f.mtime_us, ""});
    }
    out.files_added = static_cast<int64_t>(change.added.size());
    if (change.added.empty()) return out;

    SLUICE_ASSIGN_OR_RETURN(auto existing, catalog_.GetTable(name));
    catalog::Schema schema;
    if (existing) schema = existing->schema;
    // Hive partition folders become columns, as they do for queries.
    SLUICE_ASSIGN_OR_RETURN(auto columns, connection_.Describe(fmt::format(
                                              "SELECT * FROM read_parquet([{}], hive_partitioning = true, "
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
      // Originals are copied (they are not ours); converted files are ours to move.
      bool converted = StartsWith(local.string(), request_.scratch.string());
      Status st = lake_.PutFile(key, local, /*consume=*/converted);
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

}  // namespace

Result<std::vector<CrawledTable>> Crawl(catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                                        engine::Connection& connection, const CrawlRequest& request) {
  if (StartsWith(request.path, "s3://")) {
    return Status::Invalid("crawling {} is not available yet: crawl accepts local folders; copy the files down or "
                           "load them with a pipeline",
                           request.path);
  }
  fs::path path = fs::absolute(request.path);
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return Status::NotFound("{} is not a folder", path.string());
  std::vector<std::pair<fs::path, std::string>> tables;
  if (!request.table.empty()) {
    tables.emplace_back(path, request.table);
  } else {
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      std::string name = entry.path().filename().string();
      if (entry.is_directory() && !StartsWith(name, ".") && !StartsWith(name, "_")) {
        tables.emplace_back(entry.path(), TableNameOf(name));
      }
    }
    std::sort(tables.begin(), tables.end());
    if (tables.empty()) {
      return Status::NotFound("{} has no sub-folders to register as tables; give --table NAME to register the folder "
                              "itself",
                              path.string());
    }
  }
  std::vector<CrawledTable> out;
  TableCrawler crawler(catalog, lake, connection, request);
  for (const auto& [folder, table] : tables) {
    SLUICE_ASSIGN_OR_RETURN(auto name, catalog::TableName::Parse(request.zone + "." + table));
    SLUICE_ASSIGN_OR_RETURN(auto crawled, crawler.Run(folder, name));
    out.push_back(std::move(crawled));
  }
  return out;
}

}  // namespace sluice::pipeline
