#include "connectors/sources/http/http_source.hpp"

#include <nlohmann/json.hpp>

#include <fstream>

#include "common/strings.hpp"
#include "config/option_reader.hpp"
#include "connectors/sources/files/files_source.hpp"
#include "connectors/sources/http/http_download.hpp"

namespace sluice::connectors {
namespace fs = std::filesystem;
namespace {

struct HttpOptions {
  DownloadRequest request;  // validators are filled per run from the checkpoint
  std::shared_ptr<const FileReadOptions> reading;
  bool append = false;  // mode: incremental keeps every changed download; full keeps the latest
};

/// What the checkpoint remembers about the last committed download.
struct Validators {
  std::string url, etag, last_modified, sha256;
};

Validators ParseState(const std::string& json) {
  Validators v;
  auto doc = nlohmann::json::parse(json, nullptr, false);
  if (!doc.is_object()) return v;
  v.url = doc.value("url", "");
  v.etag = doc.value("etag", "");
  v.last_modified = doc.value("last_modified", "");
  v.sha256 = doc.value("sha256", "");
  return v;
}

std::string StateJson(const Validators& v) {
  return nlohmann::json{{"url", v.url}, {"etag", v.etag}, {"last_modified", v.last_modified}, {"sha256", v.sha256}}
      .dump();
}

/// The download's local name: the URL's last path segment (so the format and .gz show), or
/// "download" when it has none.
std::string LocalName(const std::string& url) {
  std::string path = url.substr(0, url.find_first_of("?#"));
  auto scheme = path.find("://");
  if (scheme != std::string::npos) {
    auto slash = path.find('/', scheme + 3);
    path = slash == std::string::npos ? "" : path.substr(slash);
  }
  std::string name = path.substr(path.rfind('/') + 1);
  std::string safe;
  for (char c : name)
    safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') ? c : '_';
  if (safe.empty() || safe == "." || safe == "..") return "download";
  return safe;
}

/// The body's kind by its first bytes: servers label archives inconsistently.
enum class Packing { kPlain, kZip, kGzip };
Packing Sniff(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  unsigned char magic[4] = {0, 0, 0, 0};
  in.read(reinterpret_cast<char*>(magic), 4);
  if (magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4) return Packing::kZip;
  if (magic[0] == 0x1f && magic[1] == 0x8b) return Packing::kGzip;
  return Packing::kPlain;
}

/// Nothing new: the server said 304 or sent the bytes committed last time.
class UnchangedReader final : public SourceReader {
 public:
  explicit UnchangedReader(std::string why) : why_(std::move(why)) {}
  std::string PendingSummary() const override { return why_; }
  bool NothingToRead() const override { return true; }
  uint64_t PendingBytes() const override { return 0; }
  Result<ReadState> Read(engine::Connection&, const std::string&) override {
    return Status::Internal("the http source has nothing to read ({})", why_);
  }
  Checkpoint NewCheckpoint() const override { return {}; }

 private:
  std::string why_;
};

/// The files reader over the download, committing the download's validators with the data.
class DownloadReader final : public SourceReader {
 public:
  DownloadReader(std::unique_ptr<SourceReader> files, Validators validators)
      : files_(std::move(files)), validators_(std::move(validators)) {}
  std::string PendingSummary() const override { return "changed download, " + HumanBytes(files_->PendingBytes()); }
  bool NothingToRead() const override { return false; }
  uint64_t PendingBytes() const override { return files_->PendingBytes(); }
  Result<ReadState> Read(engine::Connection& connection, const std::string& relation) override {
    return files_->Read(connection, relation);
  }
  const RejectingRead* rejecting() const override { return files_->rejecting(); }
  Checkpoint NewCheckpoint() const override {
    Checkpoint checkpoint = files_->NewCheckpoint();
    checkpoint.state_json = StateJson(validators_);
    return checkpoint;
  }

 private:
  std::unique_ptr<SourceReader> files_;
  Validators validators_;
};

class HttpSource final : public Source {
 public:
  HttpSource(HttpOptions options, SourcePlan plan) : options_(std::move(options)), plan_(std::move(plan)) {}
  const SourcePlan& plan() const override { return plan_; }

  Result<std::unique_ptr<SourceReader>> Open(const Checkpoint& checkpoint, const RunContext& context) override {
    const std::string shown = RedactUrl(options_.request.url);
    Validators previous = ParseState(checkpoint.state_json);
    DownloadRequest request = options_.request;
    if (previous.url == shown) {
      request.if_none_match = previous.etag;
      request.if_modified_since = previous.last_modified;
    }
    fs::path folder = context.work_dir / "download";
    std::error_code ec;
    fs::create_directories(folder, ec);
    if (ec) return Status::IoError("cannot create '{}': {}", folder.string(), ec.message());
    fs::path file = folder / LocalName(options_.request.url);
    SLUICE_ASSIGN_OR_RETURN(auto result, Download(request, file));
    if (result.not_modified) {
      return std::unique_ptr<SourceReader>(
          std::make_unique<UnchangedReader>(fmt::format("{} not modified since the last load (HTTP 304)", shown)));
    }
    // Servers without validators (or that change them on every response) are caught by content.
    for (const auto& consumed : checkpoint.consumed) {
      if (consumed.path == shown && consumed.content_hash == result.sha256) {
        fs::remove(file, ec);
        return std::unique_ptr<SourceReader>(std::make_unique<UnchangedReader>(
            fmt::format("{} has the same content as the last load ({})", shown, HumanBytes(result.bytes))));
      }
    }
    Packing packing = Sniff(file);
    if (packing == Packing::kGzip && !EndsWith(ToLower(file.filename().string()), ".gz")) {
      fs::path renamed = file;
      renamed += ".gz";  // DuckDB's readers decompress by extension
      fs::rename(file, renamed, ec);
      if (ec) return Status::IoError("cannot rename '{}': {}", file.string(), ec.message());
      file = renamed;
    }
    LocalInput input;
    input.path = file;
    input.is_zip = packing == Packing::kZip;
    input.identity = ConsumedInput{shown, static_cast<int64_t>(result.bytes), 0, result.sha256};
    Validators next{shown, result.etag, result.last_modified, result.sha256};
    auto files = MakeFilesReader(options_.reading, folder, {std::move(input)}, context);
    return std::unique_ptr<SourceReader>(std::make_unique<DownloadReader>(std::move(files), std::move(next)));
  }

 private:
  HttpOptions options_;
  SourcePlan plan_;
};

const std::vector<config::OptionSpec>& HttpOptionSpecs() {
  using config::OptionType;
  static const std::vector<config::OptionSpec> kSpecs = [] {
    std::vector<config::OptionSpec> specs = {
        {"url", OptionType::kString, "", true, false,
         "http:// or https:// URL of a CSV, JSON or Parquet file, optionally .gz or .zip"},
        {"headers", OptionType::kMap, "", false, true,
         "request headers, e.g. {Authorization: \"Bearer ${env:TOKEN}\"}; values are secrets"},
        {"timeout", OptionType::kDuration, "60s", false, false, "limit for one download attempt"},
        {"retries", OptionType::kInt, "3", false, false,
         "extra attempts after connection errors, timeouts, HTTP 408/429 and 5xx"},
        {"retry_backoff", OptionType::kDuration, "1s", false, false, "wait before the first retry; doubles each time"},
        {"max_size", OptionType::kByteSize, "16GB", false, false,
         "largest download accepted; a longer response is refused and removed"},
    };
    auto reading = FileReadOptionSpecs();
    specs.insert(specs.end(), reading.begin(), reading.end());
    return specs;
  }();
  return kSpecs;
}

Result<HttpOptions> ParseHttpOptions(const BindContext& context, const config::Value& v) {
  HttpOptions o;
  const auto* url = v.Find("url");
  SLUICE_ASSIGN_OR_RETURN(o.request.url, url->AsString());
  std::string lower = ToLower(o.request.url);
  if (!StartsWith(lower, "http://") && !StartsWith(lower, "https://")) {
    return Status::Invalid("{}: url '{}' must start with http:// or https://", url->location().ToString(),
                           RedactUrl(o.request.url));
  }
  if (const auto* headers = v.Find("headers"); headers != nullptr && !headers->IsNull()) {
    if (!headers->IsMap()) {
      return Status::Invalid(
          "{}: headers: must map header names to values, e.g. headers: {{ Authorization: "
          "\"Bearer ${{env:TOKEN}}\" }}",
          headers->location().ToString());
    }
    for (const auto& [name, value] : headers->entries()) {
      SLUICE_ASSIGN_OR_RETURN(auto secret, value.AsSecret());
      o.request.headers.emplace_back(name, std::move(secret));
    }
  }
  config::OptionReader options(v, HttpOptionSpecs());
  SLUICE_ASSIGN_OR_RETURN(auto timeout, options.Duration("timeout"));
  SLUICE_ASSIGN_OR_RETURN(auto backoff, options.Duration("retry_backoff"));
  SLUICE_ASSIGN_OR_RETURN(o.request.retries, options.Int("retries"));
  if (o.request.retries < 0) {
    return Status::Invalid("{}: retries must be 0 or more", v.Find("retries")->location().ToString());
  }
  SLUICE_ASSIGN_OR_RETURN(o.request.max_bytes, options.ByteSize("max_size"));
  o.request.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  o.request.retry_backoff = std::chrono::duration_cast<std::chrono::milliseconds>(backoff);
  SLUICE_ASSIGN_OR_RETURN(o.reading, ParseFileReadOptions(v));
  config::LoadMode mode = context.request.mode;
  switch (mode) {
    case config::LoadMode::kFull: o.append = false; break;
    case config::LoadMode::kIncremental: o.append = true; break;
    case config::LoadMode::kWindow:
    case config::LoadMode::kChanges:
    case config::LoadMode::kCdc:
      return Status::Invalid(
          "mode: {} is not available for the http source; use mode: full (the table holds the "
          "latest download) or mode: incremental (each changed download is appended)",
          config::ToString(mode));
  }
  return o;
}

}  // namespace

SourceDescriptor HttpSourceDescriptor() {
  SourceDescriptor d;
  d.name = "http";
  d.description = "One file downloaded over HTTP(S) per run (zip/gzip unpacked), read like the files source";
  d.options = HttpOptionSpecs();
  d.bind = [](const BindContext& context, const config::Value& options) -> Result<std::unique_ptr<Source>> {
    SLUICE_ASSIGN_OR_RETURN(auto parsed, ParseHttpOptions(context, options));
    SourcePlan plan;
    plan.connector = "http";
    plan.origin = context.connection_name.empty() ? "http" : context.connection_name;
    plan.description = "download of " + RedactUrl(parsed.request.url);
    plan.is_incremental = parsed.append;
    plan.snapshot = !parsed.append;
    return std::unique_ptr<Source>(std::make_unique<HttpSource>(std::move(parsed), plan));
  };
  return d;
}

}  // namespace sluice::connectors
