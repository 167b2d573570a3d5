#include "connectors/sources/files/files_source.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "common/strings.hpp"
#include "config/option_reader.hpp"
#include "connectors/s3_settings.hpp"
#include "connectors/sources/files/csv_reader_call.hpp"
#include "connectors/sources/files/text_scan.hpp"
#include "connectors/sources/files/zip_extract.hpp"
#include "storage/s3/s3_object_store.hpp"

namespace sluice::connectors {
namespace fs = std::filesystem;
namespace {

enum class FileFormat { kCsv, kJson, kParquet };

/// Column under which DuckDB's readers report each row's file; renamed to _source_file.
constexpr const char* kPathColumn = "__sluice_path";
/// Folder of the run's scratch space holding downloaded S3 inputs as <bucket>/<key>.
constexpr const char* kS3DownloadFolder = "s3";

const char* FormatName(FileFormat f) {
  switch (f) {
    case FileFormat::kCsv: return "csv";
    case FileFormat::kJson: return "json";
    case FileFormat::kParquet: return "parquet";
  }
  return "?";
}

/// Format implied by a file name, looking through .gz; nullopt when the extension says nothing.
std::optional<FileFormat> FormatFromName(std::string name) {
  name = ToLower(name);
  if (EndsWith(name, ".gz")) name.resize(name.size() - 3);
  if (EndsWith(name, ".csv") || EndsWith(name, ".tsv") || EndsWith(name, ".txt")) return FileFormat::kCsv;
  if (EndsWith(name, ".json") || EndsWith(name, ".jsonl") || EndsWith(name, ".ndjson")) return FileFormat::kJson;
  if (EndsWith(name, ".parquet")) return FileFormat::kParquet;
  return std::nullopt;
}

}  // namespace

struct FileReadOptions {
  std::vector<std::string> patterns;
  std::optional<FileFormat> format;
  CsvOptions csv;
  std::vector<std::pair<std::string, std::string>> column_types;  // pinned types, file order
  bool union_by_name = false;
  std::string json_format = "auto";
  ZipLimits zip;
};

namespace {

/// One file DuckDB will read; `display` is what users see in _source_file.
struct InputFile {
  fs::path local;
  std::string display;
};

int64_t MtimeMicros(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000 + st.st_mtim.tv_nsec / 1000;
}

std::string DisplayPath(const fs::path& root, const fs::path& file) {
  auto rel = file.lexically_relative(root);
  if (!rel.empty() && *rel.begin() != "..") return rel.generic_string();
  return file.generic_string();
}

std::string SqlList(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const auto& i : items) quoted.push_back(SqlQuote(i));
  return "[" + Join(quoted, ", ") + "]";
}

class FilesReader final : public SourceReader, public RejectingRead {
 public:
  FilesReader(const FileReadOptions& options, fs::path root, std::vector<LocalInput> pending, RunContext context)
      : options_(options), root_(std::move(root)), pending_(std::move(pending)), work_dir_(context.work_dir) {}

  std::string PendingSummary() const override {
    if (pending_.empty()) return "no new files";
    return fmt::format("{} new file{}, {}", pending_.size(), pending_.size() == 1 ? "" : "s",
                       HumanBytes(PendingBytes()));
  }
  bool NothingToRead() const override { return pending_.empty(); }
  uint64_t PendingBytes() const override {
    uint64_t total = 0;
    for (const auto& p : pending_) total += static_cast<uint64_t>(p.identity.size);
    return total;
  }

  Result<ReadState> Read(engine::Connection& connection, const std::string& relation) override {
    SLUICE_ASSIGN_OR_RETURN(auto files, MaterializeInputs());
    SLUICE_ASSIGN_OR_RETURN(FileFormat format, ResolveFormat(files));
    format_ = format;
    if (format == FileFormat::kCsv) SLUICE_TRY(NormalizeMixedLineEndings(&files));
    if (format == FileFormat::kJson) {
      for (const auto& file : files) SLUICE_TRY(CheckJsonNesting(file.local, file.display));
    }
    std::string display_expr = DisplayExpression();
    std::vector<std::string> selects;
    auto select_over = [&](const std::vector<std::string>& paths, const std::string& suffix) -> Result<std::string> {
      std::string call;
      Result<std::vector<engine::ColumnDescription>> columns = Status::Internal("not described yet");
      if (format == FileFormat::kCsv && paths.size() == 1) {
        auto pinned =
            PinnedCsvArguments(connection, paths[0], options_.csv, options_.column_types.empty() ? "" : TypeStruct());
        if (pinned) {
          call = ReaderCall(format, paths, relation + suffix, pinned);
          columns = connection.Describe("SELECT * FROM " + call);
        }
      }
      if (!columns.ok()) {  // not pinned, or refused pinned: DuckDB's own sniffing says what is wrong
        call = ReaderCall(format, paths, relation + suffix);
        columns = connection.Describe("SELECT * FROM " + call);
      }
      if (!columns.ok()) return columns.status();
      // The file path arrives under a private name, so an input that already has a _source_file
      // column (a re-ingested lake file) loses it to the path of the file it now comes from.
      std::vector<std::string> keep;
      for (const auto& c : *columns) {
        if (c.name != kPathColumn && c.name != "_source_file") keep.push_back(SqlIdent(c.name));
      }
      keep.push_back(display_expr + " AS _source_file");
      return fmt::format("SELECT {} FROM {}", Join(keep, ", "), call);
    };
    std::vector<std::string> all_paths;
    for (const auto& f : files) all_paths.push_back(f.local.string());
    if (options_.union_by_name && files.size() > 1) {
      for (size_t i = 0; i < files.size(); ++i) {
        auto select = select_over({files[i].local.string()}, fmt::format("_{}", i));
        if (!select.ok()) return ExplainReadError(select.status());
        selects.push_back(*select);
        reject_suffixes_.push_back(fmt::format("_{}", i));
      }
    } else {
      auto select = select_over(all_paths, "");
      if (!select.ok()) return ExplainReadError(select.status());
      selects.push_back(*select);
      reject_suffixes_.push_back("");
    }
    relation_ = relation;
    std::string sql =
        fmt::format("CREATE OR REPLACE TEMP VIEW {} AS {}", SqlIdent(relation), Join(selects, " UNION ALL BY NAME "));
    Status st = connection.Execute(sql);
    if (!st.ok()) return ExplainReadError(st);
    return ReadState::kFinished;
  }

  const RejectingRead* rejecting() const override { return this; }
  std::string RejectsRelation() const override {
    if (format_ != FileFormat::kCsv || relation_.empty()) return "";
    std::vector<std::string> parts;
    std::string display_expr = DisplayExpression();
    for (const auto& suffix : reject_suffixes_) {
      std::string errors = SqlIdent(relation_ + suffix + "__reject_errors");
      std::string scans = SqlIdent(relation_ + suffix + "__reject_scans");
      std::string display = display_expr;
      // The display expression rewrites the reader's path column; here it applies to file_path.
      const std::string path_column = kPathColumn;
      for (size_t pos = display.find(path_column); pos != std::string::npos; pos = display.find(path_column)) {
        display.replace(pos, path_column.size(), "s.file_path");
      }
      // DuckDB reports a short line once per missing column; one row per line is what people
      // want, explained by its most basic problem (structure before type conversion). In a file
      // with CRLF endings DuckDB's raw line starts with the previous line's LF: dropped.
      parts.push_back(
          fmt::format("SELECT {} AS _source_file, e.line::BIGINT AS _line, "
                      "arg_min(e.column_name, (e.error_type = 'CAST', e.column_idx)) AS _column, "
                      "arg_min(e.error_type::VARCHAR, (e.error_type = 'CAST', e.column_idx)) AS _error_type, "
                      "arg_min(e.error_message, (e.error_type = 'CAST', e.column_idx)) AS _reason, "
                      "regexp_replace(any_value(e.csv_line), '^\\n', '') AS _raw_line "
                      "FROM {} e JOIN {} s ON e.scan_id = s.scan_id AND e.file_id = s.file_id GROUP BY ALL",
                      display, errors, scans));
    }
    return "(" + Join(parts, " UNION ALL ") + ")";
  }

  Checkpoint NewCheckpoint() const override {
    Checkpoint checkpoint;
    for (const auto& p : pending_) checkpoint.consumed.push_back(p.identity);
    return checkpoint;
  }

 private:
  Result<std::vector<InputFile>> MaterializeInputs() {
    std::vector<InputFile> files;
    int archive_index = 0;
    bool downloaded = false;
    for (const auto& p : pending_) {
      if (p.remote) {
        // Streams to disk: memory stays bounded whatever the object's size.
        Status st = p.remote->GetToFile(p.remote_key, p.path);
        if (!st.ok()) return st.WithContext("files source: downloading {}", p.identity.path);
        downloaded = true;
      }
      if (!p.is_zip) {
        files.push_back({p.path, p.identity.path});
        if (p.remote) continue;
        // An input known by another name than its local path (a download's URL) shows that name.
        if (p.identity.path != DisplayPath(root_, p.path))
          archive_prefixes_.emplace_back(p.path.string(), p.identity.path);
        continue;
      }
      fs::path dest = work_dir_ / fmt::format("unzipped-{}", archive_index++);
      SLUICE_ASSIGN_OR_RETURN(auto members, ExtractZip(p.path, dest, options_.zip));
      int used = 0;
      for (const auto& member : members) {
        auto name = member.filename().string();
        if (StartsWith(name, ".") || (!options_.format && !FormatFromName(name))) continue;
        files.push_back({member, p.identity.path + "/" + member.lexically_relative(dest).generic_string()});
        ++used;
      }
      archive_prefixes_.emplace_back(dest.string() + "/", p.identity.path + "/");
      if (used == 0) {
        return Status::DataError("zip archive '{}' holds no CSV, JSON or Parquet file; set format: to read its members",
                                 p.identity.path);
      }
    }
    // Downloads sit at <work_dir>/s3/<bucket>/<key>, so one rewrite shows every one as s3://bucket/key.
    if (downloaded) archive_prefixes_.emplace_back((work_dir_ / kS3DownloadFolder).string() + "/", "s3://");
    return files;
  }

  /// DuckDB's sniffer refuses a CSV whose lines end partly in CRLF and partly in LF (two exports
  /// concatenated); such a file is read from a copy with LF endings, streamed into the work folder.
  Status NormalizeMixedLineEndings(std::vector<InputFile>* files) {
    std::string encoding = ToLower(options_.csv.encoding);
    if (encoding != "utf-8" && encoding != "utf8" && encoding != "latin-1" && encoding != "latin1") return Status::OK();
    int normalized = 0;
    for (auto& file : *files) {
      SLUICE_ASSIGN_OR_RETURN(auto endings, ScanLineEndings(file.local));
      if (!endings.mixed()) continue;
      std::string name = file.local.filename().string();
      if (EndsWith(ToLower(name), ".gz")) name.resize(name.size() - 3);
      fs::path folder = work_dir_ / fmt::format("lf-endings-{}", normalized++);
      std::error_code ec;
      fs::create_directories(folder, ec);
      if (ec) return Status::IoError("cannot create '{}': {}", folder.string(), ec.message());
      auto quote_char = [](const std::string& text) { return text.empty() ? '\0' : text[0]; };
      Status st = RewriteWithLfEndings(file.local, folder / name, quote_char(options_.csv.quote),
                                       quote_char(options_.csv.escape));
      if (!st.ok())
        return st.WithContext("files source: reading {}, whose lines end in both CRLF and LF", file.display);
      spdlog::info("files source: {} has {} lines ending in CRLF and {} in LF; reading it with LF endings",
                   file.display, endings.crlf, endings.lf);
      file.local = folder / name;
      archive_prefixes_.emplace_back(file.local.string(), file.display);
    }
    return Status::OK();
  }

  Result<FileFormat> ResolveFormat(const std::vector<InputFile>& files) const {
    if (options_.format) return *options_.format;
    std::optional<FileFormat> seen;
    std::string first;
    for (const auto& f : files) {
      auto format = FormatFromName(f.local.filename().string());
      if (!format) {
        return Status::Invalid(
            "cannot tell the format of '{}' from its name; set format: csv|json|parquet in the source", f.display);
      }
      if (seen && *seen != *format) {
        return Status::Invalid("files '{}' ({}) and '{}' ({}) have different formats; narrow path: or set format:",
                               first, FormatName(*seen), f.display, FormatName(*format));
      }
      seen = format;
      first = f.display;
    }
    return *seen;
  }

  /// SQL turning DuckDB's file path into the path users know (project-relative, or archive/member).
  std::string DisplayExpression() const {
    std::string expr = kPathColumn;
    for (const auto& [extracted, shown] : archive_prefixes_) {
      expr = fmt::format("replace({}, {}, {})", expr, SqlQuote(extracted), SqlQuote(shown));
    }
    return fmt::format("replace({}, {}, '')", expr, SqlQuote(root_.string() + "/"));
  }

  /// `pinned`: read_csv() arguments that fix what the sniffer would find (PinnedCsvArguments).
  std::string ReaderCall(FileFormat format, const std::vector<std::string>& paths, const std::string& rejects,
                         const std::optional<std::vector<std::string>>& pinned = std::nullopt) const {
    std::vector<std::string> args = {SqlList(paths), fmt::format("filename = '{}'", kPathColumn)};
    if (format == FileFormat::kCsv) {
      auto dialect =
          pinned ? *pinned : SniffedCsvArguments(options_.csv, options_.column_types.empty() ? "" : TypeStruct());
      args.insert(args.end(), dialect.begin(), dialect.end());
      // Bad rows never stop the scan; they land in the rejects tables and the pipeline decides
      // (fail with the first one's file/line, or quarantine them all).
      args.push_back("store_rejects = true");
      args.push_back("ignore_errors = true");
      args.push_back("rejects_table = " + SqlQuote(rejects + "__reject_errors"));
      args.push_back("rejects_scan = " + SqlQuote(rejects + "__reject_scans"));
      return fmt::format("read_csv({})", Join(args, ", "));
    }
    if (format == FileFormat::kJson) {
      args.push_back("format = " + SqlQuote(options_.json_format));
      if (!options_.column_types.empty()) args.push_back("columns = " + TypeStruct());
      return fmt::format("read_json({})", Join(args, ", "));
    }
    args.push_back("union_by_name = true");
    return fmt::format("read_parquet({})", Join(args, ", "));
  }

  std::string TypeStruct() const {
    std::vector<std::string> fields;
    for (const auto& [column, type] : options_.column_types) fields.push_back(SqlQuote(column) + ": " + SqlQuote(type));
    return "{" + Join(fields, ", ") + "}";
  }

  Status ExplainReadError(const Status& st) const {
    return st.WithContext("reading {} as {} ({})",
                          pending_.size() == 1 ? pending_[0].identity.path : "the matching files",
                          options_.format ? FormatName(*options_.format) : "format from extension",
                          "check the source options: delimiter, header, format, columns");
  }

  FileReadOptions options_;
  fs::path root_;
  std::vector<LocalInput> pending_;
  fs::path work_dir_;
  std::vector<std::pair<std::string, std::string>> archive_prefixes_;
  std::vector<std::string> reject_suffixes_;
  std::string relation_;
  std::optional<FileFormat> format_;
};

bool IsS3Pattern(const std::string& pattern) { return StartsWith(ToLower(pattern), "s3://"); }

bool IsZipName(const std::string& name) { return EndsWith(ToLower(name), ".zip"); }

class FilesSource final : public Source {
 public:
  FilesSource(FileReadOptions options, fs::path root, SourcePlan plan, storage::s3::S3Options s3)
      : options_(std::move(options)), root_(std::move(root)), plan_(std::move(plan)), s3_(std::move(s3)) {}

  const SourcePlan& plan() const override { return plan_; }

  Result<std::unique_ptr<SourceReader>> Open(const Checkpoint& checkpoint, const RunContext& context) override {
    // Local files are known by path, size and mtime; objects by path, size and ETag (mtime 0).
    std::set<std::tuple<std::string, int64_t, int64_t, std::string>> loaded;
    for (const auto& c : checkpoint.consumed) loaded.emplace(c.path, c.size, c.mtime_us, c.content_hash);
    auto already_loaded = [&](const ConsumedInput& id) {
      return loaded.count({id.path, id.size, id.mtime_us, id.content_hash}) > 0;
    };
    std::vector<LocalInput> pending;
    std::set<std::string> seen;
    std::map<std::string, std::shared_ptr<storage::ObjectStore>> buckets;
    for (const auto& pattern : options_.patterns) {
      if (IsS3Pattern(pattern)) {
        SLUICE_ASSIGN_OR_RETURN(auto location, storage::s3::ParseS3Uri(pattern));
        const auto& [bucket, key_pattern] = location;
        auto& store = buckets[bucket];
        if (!store) {
          auto opened = storage::OpenObjectStore("s3://" + bucket, s3_, storage::s3::ProcessEnvironment());
          if (!opened.ok()) return opened.status().WithContext("files source path '{}'", pattern);
          store = std::move(*opened);
        }
        auto matches = ExpandObjectGlob(*store, key_pattern);
        if (!matches.ok()) return matches.status().WithContext("files source path '{}'", pattern);
        for (const auto& object : *matches) {
          LocalInput input;
          input.identity = ConsumedInput{fmt::format("s3://{}/{}", bucket, object.key),
                                         static_cast<int64_t>(object.size), 0, object.etag};
          if (!seen.insert(input.identity.path).second || already_loaded(input.identity)) continue;
          input.path = context.work_dir / kS3DownloadFolder / bucket / object.key;
          input.is_zip = IsZipName(object.key);
          input.remote = store;
          input.remote_key = object.key;
          pending.push_back(std::move(input));
        }
        continue;
      }
      SLUICE_ASSIGN_OR_RETURN(auto matches, ExpandGlob(root_, pattern));
      for (const auto& path : matches) {
        if (!seen.insert(path.string()).second) continue;
        std::error_code ec;
        auto size = static_cast<int64_t>(fs::file_size(path, ec));
        if (ec) return Status::IoError("cannot read size of '{}': {}", path.string(), ec.message());
        LocalInput input;
        input.path = path;
        input.identity = ConsumedInput{DisplayPath(root_, path), size, MtimeMicros(path), ""};
        input.is_zip = IsZipName(path.filename().string());
        if (already_loaded(input.identity)) continue;
        pending.push_back(std::move(input));
      }
    }
    return std::unique_ptr<SourceReader>(std::make_unique<FilesReader>(options_, root_, std::move(pending), context));
  }

 private:
  FileReadOptions options_;
  fs::path root_;
  SourcePlan plan_;
  storage::s3::S3Options s3_;
};

Result<FileReadOptions> ParseOptions(const config::Value& v) {
  FileReadOptions o;
  if (const auto* path = v.Find("path")) {
    SLUICE_ASSIGN_OR_RETURN(o.patterns, path->AsStringList());
  }
  if (const auto* format = v.Find("format")) {
    SLUICE_ASSIGN_OR_RETURN(auto text, format->AsString());
    text = ToLower(text);
    if (text == "csv")
      o.format = FileFormat::kCsv;
    else if (text == "json")
      o.format = FileFormat::kJson;
    else if (text == "parquet")
      o.format = FileFormat::kParquet;
    else
      return Status::Invalid("{}: format '{}' is not one of csv, json, parquet", format->location().ToString(), text);
  }
  auto& c = o.csv;
  config::OptionReader options(v, FileReadOptionSpecs());
  SLUICE_ASSIGN_OR_RETURN(c.delimiter, options.String("delimiter"));
  bool tsv = !o.patterns.empty() && EndsWith(ToLower(o.patterns[0]), ".tsv");
  if (tsv && options.Find("delimiter") == nullptr) c.delimiter = "\t";
  SLUICE_ASSIGN_OR_RETURN(c.quote, options.String("quote"));
  SLUICE_ASSIGN_OR_RETURN(c.escape, options.String("escape"));
  if (c.escape.empty()) c.escape = c.quote;
  SLUICE_ASSIGN_OR_RETURN(c.header, options.Bool("header"));
  SLUICE_ASSIGN_OR_RETURN(c.comment, options.String("comment"));
  SLUICE_ASSIGN_OR_RETURN(c.encoding, options.String("encoding"));
  SLUICE_ASSIGN_OR_RETURN(c.date_format, options.String("date_format"));
  SLUICE_ASSIGN_OR_RETURN(c.timestamp_format, options.String("timestamp_format"));
  SLUICE_ASSIGN_OR_RETURN(c.skip_rows, options.Int("skip_rows"));
  SLUICE_ASSIGN_OR_RETURN(c.sample_size, options.Int("sample_size"));
  SLUICE_ASSIGN_OR_RETURN(c.all_varchar, options.Bool("all_varchar"));
  if (const auto* nulls = v.Find("null_values")) {
    SLUICE_ASSIGN_OR_RETURN(c.null_values, nulls->AsStringList());
  }
  if (const auto* columns = v.Find("columns")) {
    if (!columns->IsMap()) {
      return Status::Invalid("{}: columns: must map column names to types, e.g. columns: {{ id: BIGINT }}",
                             columns->location().ToString());
    }
    for (const auto& [name, type] : columns->entries()) {
      SLUICE_ASSIGN_OR_RETURN(auto type_text, type.AsString());
      o.column_types.emplace_back(name, type_text);
    }
  }
  SLUICE_ASSIGN_OR_RETURN(o.union_by_name, options.Bool("union_by_name"));
  SLUICE_ASSIGN_OR_RETURN(o.json_format, options.String("json_format"));
  if (o.json_format != "auto" && o.json_format != "newline_delimited" && o.json_format != "array") {
    return Status::Invalid("{}: json_format '{}' is not one of auto, newline_delimited, array",
                           v.Find("json_format")->location().ToString(), o.json_format);
  }
  SLUICE_ASSIGN_OR_RETURN(o.zip.max_unpacked_bytes, options.ByteSize("zip_max_bytes"));
  SLUICE_ASSIGN_OR_RETURN(auto max_entries, options.Int("zip_max_entries"));
  SLUICE_ASSIGN_OR_RETURN(auto max_ratio, options.Int("zip_max_ratio"));
  if (max_entries < 1 || max_ratio < 1) {
    return Status::Invalid("{}: zip_max_entries: and zip_max_ratio: must be positive whole numbers",
                           v.location().ToString());
  }
  o.zip.max_entries = static_cast<uint64_t>(max_entries);
  o.zip.max_ratio = static_cast<uint64_t>(max_ratio);
  return o;
}

}  // namespace

const std::vector<config::OptionSpec>& FileReadOptionSpecs() {
  using config::OptionType;
  static const std::vector<config::OptionSpec> kSpecs = {
      {"format", OptionType::kString, "", false, false, "csv | json | parquet; omitted = from the file extension"},
      {"delimiter", OptionType::kString, ",", false, false, "CSV field separator (tab for .tsv)"},
      {"quote", OptionType::kString, "\"", false, false, "CSV quote character"},
      {"escape", OptionType::kString, "", false, false,
       "CSV escape character inside quotes; omitted = the quote character (a doubled quote is one quote)"},
      {"header", OptionType::kBool, "true", false, false, "CSV files start with a header row"},
      {"null_values", OptionType::kStringList, "[\"\"]", false, false, "CSV values read as NULL"},
      {"skip_rows", OptionType::kInt, "0", false, false, "lines to skip before the header"},
      {"comment", OptionType::kString, "", false, false, "CSV comment character"},
      {"encoding", OptionType::kString, "utf-8", false, false, "utf-8 | utf-16 | latin-1"},
      {"date_format", OptionType::kString, "", false, false, "strptime format of DATE values, e.g. %d/%m/%Y"},
      {"timestamp_format", OptionType::kString, "", false, false, "strptime format of TIMESTAMP values"},
      {"sample_size", OptionType::kInt, "20480", false, false, "rows sampled to infer column types"},
      {"all_varchar", OptionType::kBool, "false", false, false, "read every CSV column as text (no type inference)"},
      {"columns", OptionType::kMap, "", false, false,
       "pin column types, e.g. {id: BIGINT, amount: 'DECIMAL(12,2)'}; for JSON, the columns to read"},
      {"union_by_name", OptionType::kBool, "false", false, false,
       "files have different column sets/orders: read each file and align columns by name"},
      {"json_format", OptionType::kString, "auto", false, false, "auto | newline_delimited | array"},
      {"zip_max_bytes", OptionType::kByteSize, "16GB", false, false,
       "largest total a .zip may unpack to; a bigger archive is refused as a zip bomb"},
      {"zip_max_entries", OptionType::kInt, "10000", false, false, "most members a .zip may hold"},
      {"zip_max_ratio", OptionType::kInt, "200", false, false,
       "largest unpacked/compressed size ratio of a .zip member (real data stays below 50:1)"},
  };
  return kSpecs;
}

Result<std::shared_ptr<const FileReadOptions>> ParseFileReadOptions(const config::Value& options) {
  SLUICE_ASSIGN_OR_RETURN(auto parsed, ParseOptions(options));
  return std::shared_ptr<const FileReadOptions>(std::make_shared<FileReadOptions>(std::move(parsed)));
}

std::unique_ptr<SourceReader> MakeFilesReader(std::shared_ptr<const FileReadOptions> options,
                                              std::filesystem::path display_root, std::vector<LocalInput> inputs,
                                              const RunContext& context) {
  return std::make_unique<FilesReader>(*options, std::move(display_root), std::move(inputs), context);
}

SourceDescriptor FilesSourceDescriptor() {
  using config::OptionType;
  SourceDescriptor d;
  d.name = "files";
  d.description =
      "Local files or S3 objects matching a glob: CSV, JSON lines/arrays, Parquet; .gz and .zip read transparently";
  d.options = {
      {"path", OptionType::kStringList, "", true, false,
       "file or glob (relative to the project, or s3://bucket/key-glob), or a list of them"},
  };
  auto reading = FileReadOptionSpecs();
  d.options.insert(d.options.end(), reading.begin(), reading.end());
  d.bind = [](const BindContext& context, const config::Value& options) -> Result<std::unique_ptr<Source>> {
    SLUICE_ASSIGN_OR_RETURN(auto parsed, ParseOptions(options));
    storage::s3::S3Options s3;
    bool reads_s3 = false;
    for (const auto& pattern : parsed.patterns) {
      if (!IsS3Pattern(pattern)) continue;
      reads_s3 = true;
      auto location = storage::s3::ParseS3Uri(pattern);
      if (!location.ok()) return location.status().WithContext("files source path");
      if (location->second.empty()) {
        return Status::Invalid(
            "files source path '{}' names a bucket but no objects; add a key or glob, e.g. "
            "s3://{}/incoming/*.csv",
            pattern, location->first);
      }
    }
    // The s3: block is read only when a path needs it, so a local project is not held to it.
    if (reads_s3) {
      SLUICE_ASSIGN_OR_RETURN(s3, S3OptionsFromConfig(context.project.s3));
    }
    SourcePlan plan;
    plan.connector = "files";
    plan.origin = context.connection_name.empty() ? "files" : context.connection_name;
    plan.description = fmt::format("files matching {}", Join(parsed.patterns, ", "));
    plan.is_incremental = true;
    return std::unique_ptr<Source>(
        std::make_unique<FilesSource>(std::move(parsed), context.project.root, plan, std::move(s3)));
  };
  return d;
}

}  // namespace sluice::connectors
