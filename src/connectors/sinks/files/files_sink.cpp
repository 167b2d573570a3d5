#include "connectors/sinks/files/files_sink.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/fault_point.hpp"
#include "common/strings.hpp"
#include "config/option_reader.hpp"
#include "connectors/s3_settings.hpp"
#include "storage/object_store.hpp"

namespace sluice::connectors {
namespace {

namespace fs = std::filesystem;

enum class ExportFormat { kCsv, kJson, kParquet };

const std::vector<std::string> kFormats = {"csv", "json", "parquet"};

const std::vector<config::OptionSpec>& FilesSinkOptions() {
  static const std::vector<config::OptionSpec> kOptions = {
      {"path", config::OptionType::kString, "", true, false,
       "the file to write, relative to the project folder, or s3://bucket/prefix/name.csv; {date} (the run's UTC "
       "date, YYYY-MM-DD) and {run_id} are replaced"},
      {"format", config::OptionType::kString, "", false, false,
       "csv (with a header row) | json (one object per line) | parquet (zstd); omitted = from the path's extension"},
      {"max_file_size", config::OptionType::kByteSize, "", false, false,
       "split a larger export into NAME-0001.EXT, NAME-0002.EXT, ... of about this size, listed by NAME.manifest.json; "
       "omitted = always one file"},
      {"header", config::OptionType::kBool, "true", false, false, "csv: write the column names as the first line"},
  };
  return kOptions;
}

struct ExportSettings {
  std::string path;  // as written, with placeholders
  ExportFormat format = ExportFormat::kCsv;
  std::optional<uint64_t> max_file_size;
  bool header = true;
  fs::path project_root;
  config::Value s3;
  std::string where;  // "target of job 'x' (files sink)"
};

std::string FormatName(ExportFormat format) { return kFormats[static_cast<size_t>(format)]; }

/// The COPY options that write `format`.
std::string CopyOptions(const ExportSettings& settings) {
  switch (settings.format) {
    case ExportFormat::kCsv: return fmt::format("FORMAT csv, HEADER {}", settings.header ? "true" : "false");
    case ExportFormat::kJson: return "FORMAT json";
    case ExportFormat::kParquet: return "FORMAT parquet, COMPRESSION zstd";
  }
  return "";
}

/// A store rooted at the export's folder, the file name in it, and the path as users wrote it.
struct ExportLocation {
  std::string folder;  // local path or s3://bucket/prefix
  std::string name;    // daily_revenue.csv
  std::string display;
  std::string Stem() const { return fs::path(name).stem().string(); }
  std::string Extension() const { return fs::path(name).extension().string(); }
  std::string Numbered(size_t n) const { return fmt::format("{}-{:04}{}", Stem(), n, Extension()); }
  std::string Manifest() const { return Stem() + ".manifest.json"; }
};

Result<ExportLocation> Locate(const ExportSettings& settings, const std::string& expanded) {
  ExportLocation location;
  location.display = expanded;
  if (StartsWith(ToLower(expanded), "s3://")) {
    size_t slash = expanded.rfind('/');
    if (slash == std::string::npos || slash < 5 || slash + 1 == expanded.size() ||
        expanded.find('/', 5) == std::string::npos) {
      return Status::Invalid("{}: path '{}' needs a bucket and a file name, e.g. s3://bucket/exports/out.csv",
                             settings.where, expanded);
    }
    location.folder = expanded.substr(0, slash);
    location.name = expanded.substr(slash + 1);
    return location;
  }
  fs::path path = fs::path(expanded).is_absolute() ? fs::path(expanded) : settings.project_root / expanded;
  path = path.lexically_normal();
  if (!path.has_filename() || path.filename() == "." || path.filename() == "..") {
    return Status::Invalid("{}: path '{}' must name a file, e.g. exports/out.csv", settings.where, expanded);
  }
  location.folder = path.parent_path().string();
  location.name = path.filename().string();
  return location;
}

/// The files DuckDB wrote with FILENAME_PATTERN 'part-{i}', in the order of i.
std::vector<fs::path> SplitFilesInOrder(const fs::path& folder) {
  std::vector<std::pair<long, fs::path>> numbered;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    std::string stem = entry.path().stem().string();
    if (!StartsWith(stem, "part-")) continue;
    numbered.emplace_back(std::strtol(stem.c_str() + 5, nullptr, 10), entry.path());
  }
  std::sort(numbered.begin(), numbered.end());
  std::vector<fs::path> files;
  for (auto& [n, path] : numbered) files.push_back(std::move(path));
  return files;
}

class FilesSinkWriter final : public SinkWriter {
 public:
  FilesSinkWriter(const ExportSettings& settings, ExportLocation location, SinkRunContext context)
      : settings_(settings),
        location_(std::move(location)),
        context_(std::move(context)),
        scratch_(context_.work_dir / "files_export") {}

  ~FilesSinkWriter() override {
    std::error_code ec;
    fs::remove_all(scratch_, ec);
  }

  Result<int64_t> Write(engine::Connection& connection, const std::string& relation) override {
    {
      std::lock_guard lock(mutex_);
      connection_ = &connection;
    }
    std::error_code ec;
    fs::create_directories(scratch_ / "parts", ec);
    if (ec) return Status::IoError("cannot create the export's work folder '{}': {}", scratch_.string(), ec.message());
    fs::path part = scratch_ / "parts" / fmt::format("part-{:05}.parquet", parts_.size() + 1);
    SLUICE_ASSIGN_OR_RETURN(auto copied, connection.Query(fmt::format("COPY (SELECT * FROM {}) TO {} (FORMAT parquet, "
                                                                      "COMPRESSION zstd)",
                                                                      SqlIdent(relation), SqlQuote(part.string()))));
    parts_.push_back(part);
    auto rows = static_cast<int64_t>(copied.rows_changed);
    rows_ += rows;
    return rows;
  }

  Status Commit(const LoadRecord& /*record*/) override {
    if (parts_.empty()) {
      spdlog::info("{}: the job delivered no rows; {} keeps its previous content", settings_.where, location_.display);
      return Status::OK();
    }
    SLUICE_ASSIGN_OR_RETURN(auto files, Convert());
    SLUICE_FAULT_POINT("files_export_before_publish");
    return Publish(files);
  }

  int64_t BytesWritten() const override { return bytes_; }
  std::vector<std::string> Outputs() const override { return outputs_; }

  void Interrupt() override {
    std::lock_guard lock(mutex_);
    if (connection_ != nullptr) connection_->Interrupt();
  }

 private:
  /// The staged parts as the export's file(s), in the run's work folder.
  Result<std::vector<fs::path>> Convert() {
    std::vector<std::string> quoted;
    for (const auto& part : parts_) quoted.push_back(SqlQuote(part.string()));
    std::string select = fmt::format("SELECT * FROM read_parquet([{}])", Join(quoted, ", "));
    fs::path out = scratch_ / "out";
    std::error_code ec;
    fs::create_directories(out, ec);
    if (ec) return Status::IoError("cannot create the export's work folder '{}': {}", out.string(), ec.message());
    std::string options = CopyOptions(settings_);
    fs::path target = out / ("single" + location_.Extension());
    if (settings_.max_file_size) {
      target = out / "split";
      options += fmt::format(", FILE_SIZE_BYTES {}, FILENAME_PATTERN 'part-{{i}}'", *settings_.max_file_size);
    }
    Status copied =
        connection_->Execute(fmt::format("COPY ({}) TO {} ({})", select, SqlQuote(target.string()), options));
    if (!copied.ok()) return copied.WithContext("{}: writing the export {}", settings_.where, location_.display);
    if (!settings_.max_file_size) return std::vector<fs::path>{target};
    auto files = SplitFilesInOrder(target);
    if (files.empty())
      return Status::Internal("{}: the engine wrote no export files into {}", settings_.where, target.string());
    return files;
  }

  /// Puts every file (each whole, under its final name), then the manifest naming this export's
  /// files, then removes what an earlier export left that this one does not have.
  Status Publish(const std::vector<fs::path>& files) {
    storage::s3::S3Options s3_options;
    if (StartsWith(ToLower(location_.folder), "s3://")) {
      SLUICE_ASSIGN_OR_RETURN(s3_options, S3OptionsFromConfig(settings_.s3));
    }
    auto opened = storage::OpenObjectStore(location_.folder, s3_options, storage::s3::ProcessEnvironment());
    if (!opened.ok()) return opened.status().WithContext("{}: opening {}", settings_.where, location_.folder);
    auto& store = **opened;
    std::vector<std::string> names;
    if (files.size() == 1) {
      names.push_back(location_.name);
    } else {
      for (size_t i = 0; i < files.size(); ++i) names.push_back(location_.Numbered(i + 1));
    }
    nlohmann::json listed = nlohmann::json::array();
    for (size_t i = 0; i < files.size(); ++i) {
      std::error_code ec;
      auto size = static_cast<int64_t>(fs::file_size(files[i], ec));
      Status put = store.PutFile(names[i], files[i], /*consume=*/true);
      if (!put.ok()) return put.WithContext("{}: publishing {}", settings_.where, names[i]);
      bytes_ += size;
      outputs_.push_back(files.size() == 1 ? location_.display : fmt::format("{}/{}", location_.folder, names[i]));
      listed.push_back({{"name", names[i]}, {"bytes", size}});
    }
    if (files.size() > 1) {
      nlohmann::json manifest = {{"run_id", context_.run_id.value},
                                 {"format", FormatName(settings_.format)},
                                 {"rows", rows_},
                                 {"files", listed}};
      Status put = store.Put(location_.Manifest(), manifest.dump(2) + "\n");
      if (!put.ok()) return put.WithContext("{}: publishing {}", settings_.where, location_.Manifest());
    }
    RemoveLeftovers(store, names);
    return Status::OK();
  }

  /// An earlier export's other files (more parts than now, or one file where there are now parts)
  /// would mix with this one: they go. A failure here only leaves old files behind, so it is logged.
  void RemoveLeftovers(storage::ObjectStore& store, const std::vector<std::string>& kept) {
    std::vector<std::string> stale;
    auto listed = store.List("");
    if (!listed.ok()) {
      spdlog::warn("{}: cannot list {} to remove an earlier export's files: {}", settings_.where, location_.folder,
                   listed.status().message());
      return;
    }
    for (const auto& object : *listed) {
      const std::string& key = object.key;
      if (std::find(kept.begin(), kept.end(), key) != kept.end()) continue;
      bool numbered = StartsWith(key, location_.Stem() + "-") && EndsWith(key, location_.Extension()) &&
                      key.size() == location_.Numbered(1).size() &&
                      std::all_of(key.begin() + location_.Stem().size() + 1, key.begin() + location_.Stem().size() + 5,
                                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
      bool ours = numbered || key == location_.name || (kept.size() == 1 && key == location_.Manifest());
      if (ours) stale.push_back(key);
    }
    if (stale.empty()) return;
    Status deleted = store.DeleteMany(stale);
    if (!deleted.ok()) {
      spdlog::warn("{}: could not remove files of an earlier export ({}): {}", settings_.where, Join(stale, ", "),
                   deleted.message());
    }
  }

  ExportSettings settings_;
  ExportLocation location_;
  SinkRunContext context_;
  fs::path scratch_;
  std::vector<fs::path> parts_;
  int64_t rows_ = 0;
  int64_t bytes_ = 0;
  std::vector<std::string> outputs_;
  std::mutex mutex_;
  engine::Connection* connection_ = nullptr;
};

class FilesSink final : public Sink {
 public:
  FilesSink(ExportSettings settings, SinkPlan plan) : settings_(std::move(settings)), plan_(std::move(plan)) {}

  const SinkPlan& plan() const override { return plan_; }

  Result<std::unique_ptr<SinkWriter>> Open(const SinkRunContext& context) override {
    SLUICE_ASSIGN_OR_RETURN(std::string expanded,
                            ExpandExportPath(settings_.path, FormatDateUtc(context.clock.Now()), context.run_id.value));
    SLUICE_ASSIGN_OR_RETURN(auto location, Locate(settings_, expanded));
    return std::unique_ptr<SinkWriter>(new FilesSinkWriter(settings_, std::move(location), context));
  }

 private:
  ExportSettings settings_;
  SinkPlan plan_;
};

Result<std::unique_ptr<Sink>> BindFilesSink(const SinkBindContext& context, const config::Value& options) {
  ExportSettings settings;
  settings.where = fmt::format("target of job '{}' in pipeline '{}' (files sink)", context.job, context.pipeline);
  settings.project_root = context.project.root;
  settings.s3 = context.project.s3;
  SLUICE_ASSIGN_OR_RETURN(settings.path, options.Find("path")->AsString());
  const config::Value* path_value = options.Find("path");
  std::string at = path_value->location().ToString();
  // Placeholders and the location are checked now, with stand-in values, so `sluice validate` reports them.
  auto sample = ExpandExportPath(settings.path, "2000-01-01", "run");
  if (!sample.ok()) return Status::Invalid("{}: {} ({})", at, sample.status().message(), settings.where);
  SLUICE_ASSIGN_OR_RETURN(auto location, Locate(settings, *sample));
  config::OptionReader keys(options, FilesSinkOptions());
  SLUICE_ASSIGN_OR_RETURN(std::string format, keys.String("format"));
  if (format.empty()) {
    format = ToLower(location.Extension());
    if (!format.empty()) format = format.substr(1);
    if (format == "ndjson" || format == "jsonl") format = "json";
    if (std::find(kFormats.begin(), kFormats.end(), format) == kFormats.end()) {
      return Status::Invalid("{}: cannot tell the format of '{}' from its extension; add format: csv | json | parquet",
                             at, settings.path);
    }
  }
  auto known = std::find(kFormats.begin(), kFormats.end(), format);
  if (known == kFormats.end()) {
    return Status::Invalid("{}: format '{}' of {} is not one of {}{}", options.Find("format")->location().ToString(),
                           format, settings.where, Join(kFormats, ", "), DidYouMean(format, kFormats));
  }
  settings.format = static_cast<ExportFormat>(known - kFormats.begin());
  if (const auto* size = options.Find("max_file_size"); size != nullptr && !size->IsNull()) {
    SLUICE_ASSIGN_OR_RETURN(uint64_t bytes, keys.ByteSize("max_file_size"));
    if (bytes < 1024) {
      return Status::Invalid("{}: max_file_size of {} must be at least 1KB", size->location().ToString(),
                             settings.where);
    }
    settings.max_file_size = bytes;
  }
  SLUICE_ASSIGN_OR_RETURN(settings.header, keys.Bool("header"));

  SinkPlan plan;
  plan.sink = "files";
  plan.target = settings.path;
  plan.description = fmt::format(
      "export as {} to {}{}", FormatName(settings.format), settings.path,
      settings.max_file_size ? fmt::format(" (files of at most about {} bytes)", *settings.max_file_size) : "");
  return std::unique_ptr<Sink>(new FilesSink(std::move(settings), std::move(plan)));
}

}  // namespace

Result<std::string> ExpandExportPath(const std::string& path, const std::string& date, const std::string& run_id) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '{') {
      out += path[i];
      continue;
    }
    size_t close = path.find('}', i);
    std::string name = close == std::string::npos ? path.substr(i) : path.substr(i + 1, close - i - 1);
    if (name == "date") {
      out += date;
    } else if (name == "run_id") {
      out += run_id;
    } else {
      return Status::Invalid("path '{}' has the placeholder '{{{}}}'; only {{date}} and {{run_id}} are replaced", path,
                             name);
    }
    i = close;
  }
  return out;
}

SinkDescriptor FilesSinkDescriptor() {
  return SinkDescriptor{"files", "plain CSV, JSON or Parquet files in a folder or under an s3:// prefix",
                        FilesSinkOptions(), BindFilesSink};
}

}  // namespace sluice::connectors
