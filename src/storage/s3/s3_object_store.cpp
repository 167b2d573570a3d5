#include "storage/s3/s3_object_store.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <future>

#include "common/logging.hpp"
#include "common/strings.hpp"
#include "storage/s3/s3_client.hpp"

namespace sluice::storage::s3 {
namespace {

namespace fs = std::filesystem;

constexpr size_t kDeleteBatch = 1000;  // DeleteObjects' limit

std::string StripQuotes(std::string etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return etag;
}

/// "2026-11-23T15:00:00.000Z" (listings)
TimePoint ParseIsoTime(const std::string& text) {
  std::tm tm{};
  if (strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return TimePoint();
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

/// "Mon, 23 Nov 2026 15:00:00 GMT" (Last-Modified header)
TimePoint ParseHttpTime(const std::string& text) {
  std::tm tm{};
  if (strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S", &tm) == nullptr) return TimePoint();
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

class S3ObjectStore;

/// Streams an object by ranged GETs of read_chunk_size; the first chunk is fetched on open (so a small
/// object is a snapshot), later ones carry If-Match so a replaced object fails loudly instead of mixing.
class S3ObjectReader final : public ObjectReader {
 public:
  S3ObjectReader(S3Client* client, std::string bucket, std::string full_key, std::string etag, uint64_t next,
                 uint64_t end, std::string first)
      : client_(client),
        bucket_(std::move(bucket)),
        key_(std::move(full_key)),
        etag_(std::move(etag)),
        next_(next),
        end_(end),
        buffer_(std::move(first)) {}

  Result<size_t> Read(char* out, size_t size) override {
    if (pos_ == buffer_.size()) {
      if (next_ >= end_) return size_t{0};
      uint64_t last = std::min(end_, next_ + client_->options().read_chunk_size) - 1;
      S3Request request;
      request.bucket = bucket_;
      request.key = key_;
      request.headers = {{"range", fmt::format("bytes={}-{}", next_, last)}, {"if-match", "\"" + etag_ + "\""}};
      SLUICE_ASSIGN_OR_RETURN(auto response, client_->Send(request));
      if (response.body.empty()) {
        return Status::IoError("S3 GET {}: empty answer for bytes {}-{}", S3Client::Name(bucket_, key_), next_, last);
      }
      buffer_ = std::move(response.body);
      pos_ = 0;
      next_ += buffer_.size();
    }
    size_t n = std::min(size, buffer_.size() - pos_);
    std::memcpy(out, buffer_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  S3Client* client_;
  std::string bucket_, key_, etag_;
  uint64_t next_, end_;
  std::string buffer_;
  size_t pos_ = 0;
};

class S3ObjectWriter;

class S3ObjectStore final : public ObjectStore {
 public:
  S3ObjectStore(std::unique_ptr<S3Client> client, std::string bucket, std::string prefix)
      : client_(std::move(client)), bucket_(std::move(bucket)), prefix_(std::move(prefix)) {}

  std::string Describe() const override {
    return prefix_.empty() ? "s3://" + bucket_ : "s3://" + bucket_ + "/" + prefix_;
  }

  std::string FullKey(const std::string& key) const { return prefix_.empty() ? key : prefix_ + "/" + key; }
  S3Client& client() { return *client_; }
  const std::string& bucket() const { return bucket_; }

  Status PutBytes(const std::string& full_key, std::string_view data) {
    S3Request request;
    request.method = "PUT";
    request.bucket = bucket_;
    request.key = full_key;
    request.body = data;
    return client_->Send(request).status();
  }

  Status Put(const std::string& key, std::string_view data) override;
  Status PutFile(const std::string& key, const fs::path& local, bool consume) override;

  Result<std::string> Get(const std::string& key) override {
    SLUICE_TRY(ValidateObjectKey(key));
    S3Request request;
    request.bucket = bucket_;
    request.key = FullKey(key);
    SLUICE_ASSIGN_OR_RETURN(auto response, client_->Send(request));
    return std::move(response.body);
  }

  Status GetToFile(const std::string& key, const fs::path& local) override {
    SLUICE_TRY(ValidateObjectKey(key));
    std::error_code ec;
    if (local.has_parent_path()) fs::create_directories(local.parent_path(), ec);
    if (ec) return Status::IoError("cannot create folder {}: {}", local.parent_path().string(), ec.message());
    fs::path partial = local;
    static std::atomic<uint64_t> downloads{0};
    partial += fmt::format(".sluice-download-{}-{}", getpid(), downloads++);
    std::ofstream out;
    auto open = [&]() -> Status {
      if (out.is_open()) out.close();
      out.open(partial, std::ios::binary | std::ios::trunc);
      if (!out)
        return Status::IoError("cannot write {} (download of {})", partial.string(),
                               S3Client::Name(bucket_, FullKey(key)));
      return Status::OK();
    };
    SLUICE_TRY(open());
    S3Request request;
    request.bucket = bucket_;
    request.key = FullKey(key);
    request.sink = [&](std::string_view data) -> Status {
      out.write(data.data(), static_cast<std::streamsize>(data.size()));
      if (!out) return Status::IoError("cannot write {} (disk full?)", partial.string());
      return Status::OK();
    };
    request.restart = open;
    auto response = client_->Send(request);
    out.close();
    if (!response.ok() || !out) {
      fs::remove(partial, ec);
      if (!response.ok()) return response.status();
      return Status::IoError("cannot write {} (disk full?)", partial.string());
    }
    fs::rename(partial, local, ec);
    if (ec) {
      fs::remove(partial, ec);
      return Status::IoError("cannot move download of {} to {}: {}", key, local.string(), ec.message());
    }
    return Status::OK();
  }

  Result<std::unique_ptr<ObjectReader>> OpenRead(const std::string& key, uint64_t offset,
                                                 std::optional<uint64_t> length) override {
    SLUICE_TRY(ValidateObjectKey(key));
    const std::string full = FullKey(key);
    if (length && *length == 0) {
      SLUICE_ASSIGN_OR_RETURN(auto info, Stat(key));
      if (offset > info.size) return OffsetPastEnd(key, offset, info.size);
      return std::unique_ptr<ObjectReader>(new S3ObjectReader(client_.get(), bucket_, full, info.etag, 0, 0, ""));
    }
    uint64_t want = std::min<uint64_t>(length.value_or(UINT64_MAX), client_->options().read_chunk_size);
    S3Request request;
    request.bucket = bucket_;
    request.key = full;
    request.headers = {{"range", fmt::format("bytes={}-{}", offset, offset + want - 1)}};
    request.accepted = {416};
    SLUICE_ASSIGN_OR_RETURN(auto response, client_->Send(request));
    std::string etag = StripQuotes(response.Header("etag"));
    if (response.status == 416) {  // the range starts at or after the end
      SLUICE_ASSIGN_OR_RETURN(auto info, Stat(key));
      if (offset > info.size) return OffsetPastEnd(key, offset, info.size);
      return std::unique_ptr<ObjectReader>(new S3ObjectReader(client_.get(), bucket_, full, info.etag, 0, 0, ""));
    }
    uint64_t total = 0;
    std::string body = std::move(response.body);
    if (response.status == 206) {
      std::string range = response.Header("content-range");  // "bytes a-b/total"
      size_t slash = range.rfind('/');
      total = slash == std::string::npos ? 0 : std::strtoull(range.c_str() + slash + 1, nullptr, 10);
    } else {  // the server ignored the range and sent the whole object
      total = body.size();
      if (offset > total) return OffsetPastEnd(key, offset, total);
      body = body.substr(offset, want);
    }
    uint64_t end = length ? std::min(total, offset + *length) : total;
    if (body.size() > end - offset) body.resize(end - offset);
    uint64_t next = offset + body.size();
    return std::unique_ptr<ObjectReader>(
        new S3ObjectReader(client_.get(), bucket_, full, etag, next, end, std::move(body)));
  }

  Result<std::unique_ptr<ObjectWriter>> OpenWrite(const std::string& key) override;

  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override {
    SLUICE_TRY(ValidateObjectPrefix(prefix));
    std::string full_prefix = prefix_.empty() ? prefix : prefix_ + "/" + prefix;
    std::vector<ObjectInfo> objects;
    std::string token;
    while (true) {
      S3Request request;
      request.bucket = bucket_;
      request.query = {
          {"list-type", "2"}, {"max-keys", std::to_string(client_->options().list_page_size)}, {"prefix", full_prefix}};
      if (!token.empty()) request.query.emplace_back("continuation-token", token);
      request.what = fmt::format("list (prefix '{}') of", full_prefix);
      SLUICE_ASSIGN_OR_RETURN(auto response, client_->Send(request));
      for (std::string_view contents : XmlElements(response.body, "Contents")) {
        ObjectInfo info;
        std::string full = XmlFirst(contents, "Key");
        if (!prefix_.empty()) {
          if (!StartsWith(full, prefix_ + "/")) continue;
          full = full.substr(prefix_.size() + 1);
        }
        info.key = std::move(full);
        info.size = std::strtoull(XmlFirst(contents, "Size").c_str(), nullptr, 10);
        info.modified = ParseIsoTime(XmlFirst(contents, "LastModified"));
        info.etag = StripQuotes(XmlFirst(contents, "ETag"));
        objects.push_back(std::move(info));
      }
      token = XmlFirst(response.body, "NextContinuationToken");
      if (XmlFirst(response.body, "IsTruncated") != "true" || token.empty()) break;
    }
    std::sort(objects.begin(), objects.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return objects;
  }

  Result<ObjectInfo> Stat(const std::string& key) override {
    SLUICE_TRY(ValidateObjectKey(key));
    S3Request request;
    request.method = "HEAD";
    request.bucket = bucket_;
    request.key = FullKey(key);
    SLUICE_ASSIGN_OR_RETURN(auto response, client_->Send(request));
    ObjectInfo info;
    info.key = key;
    info.size = std::strtoull(response.Header("content-length").c_str(), nullptr, 10);
    info.modified = ParseHttpTime(response.Header("last-modified"));
    info.etag = StripQuotes(response.Header("etag"));
    return info;
  }

  Status Delete(const std::string& key) override {
    SLUICE_TRY(ValidateObjectKey(key));
    S3Request request;
    request.method = "DELETE";
    request.bucket = bucket_;
    request.key = FullKey(key);
    request.accepted = {404};
    return client_->Send(request).status();
  }

  Status DeleteMany(const std::vector<std::string>& keys) override {
    for (const auto& key : keys) SLUICE_TRY(ValidateObjectKey(key));
    size_t failures = 0;
    std::string first_failure;
    for (size_t start = 0; start < keys.size(); start += kDeleteBatch) {
      std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete><Quiet>true</Quiet>";
      size_t stop = std::min(keys.size(), start + kDeleteBatch);
      for (size_t i = start; i < stop; ++i) body += "<Object><Key>" + XmlEscape(FullKey(keys[i])) + "</Key></Object>";
      body += "</Delete>";
      S3Request request;
      request.method = "POST";
      request.bucket = bucket_;
      request.query = {{"delete", ""}};
      request.headers = {{"content-md5", Md5Base64(body)}};
      request.body = body;
      request.what = fmt::format("delete of {} objects in", stop - start);
      auto response = client_->Send(request);
      if (!response.ok()) {
        failures += stop - start;
        if (first_failure.empty()) first_failure = response.status().message();
        continue;
      }
      for (std::string_view error : XmlElements(response->body, "Error")) {
        std::string code = XmlFirst(error, "Code");
        if (code == "NoSuchKey") continue;
        ++failures;
        if (first_failure.empty()) {
          first_failure = fmt::format("{}: {} {}", S3Client::Name(bucket_, XmlFirst(error, "Key")), code,
                                      XmlFirst(error, "Message"));
        }
      }
    }
    if (failures == 0) return Status::OK();
    return Status::IoError("S3 delete: {} of {} objects in {} could not be deleted; first: {}", failures, keys.size(),
                           Describe(), first_failure);
  }

  std::optional<fs::path> LocalPath(const std::string&) const override { return std::nullopt; }

 private:
  Status OffsetPastEnd(const std::string& key, uint64_t offset, uint64_t size) const {
    return Status::Invalid("read of {} at offset {}: the object has only {} bytes",
                           S3Client::Name(bucket_, FullKey(key)), offset, size);
  }

  std::unique_ptr<S3Client> client_;
  std::string bucket_;
  std::string prefix_;
};

/// Buffers up to part_size; the first full part starts a multipart upload, each part is sent (and
/// retried) on its own, Finish completes it. Small objects become one PUT at Finish. Up to
/// `upload_concurrency` parts are sent at once (each on its own thread and pooled connection), so
/// round trips overlap; memory is at most (upload_concurrency + 1) parts.
class S3ObjectWriter final : public ObjectWriter {
 public:
  S3ObjectWriter(S3ObjectStore* store, std::string full_key) : store_(store), key_(std::move(full_key)) {
    part_size_ = std::max<uint64_t>(1, store_->client().options().part_size);
    threshold_ = std::max<uint64_t>(store_->client().options().multipart_threshold, part_size_);
    max_in_flight_ = static_cast<size_t>(std::max(1, store_->client().options().upload_concurrency));
  }
  ~S3ObjectWriter() override { Abort(); }

  Status Write(std::string_view data) override {
    if (done_) return Status::Invalid("write to {} after Finish or Abort", Name());
    while (!data.empty()) {
      // Until the upload is known to be multipart, keep up to the threshold; then flush whole parts.
      uint64_t limit = upload_id_.empty() ? threshold_ : part_size_;
      size_t take =
          static_cast<size_t>(std::min<uint64_t>(data.size(), limit - std::min<uint64_t>(limit, buffer_.size())));
      if (take == 0) {
        Status st = FlushParts();
        if (!st.ok()) {
          Abort();
          return st;
        }
        continue;
      }
      buffer_.append(data.substr(0, take));
      data.remove_prefix(take);
    }
    return Status::OK();
  }

  Status Finish() override {
    if (done_) return Status::Invalid("Finish of {} after Finish or Abort", Name());
    Status st = upload_id_.empty() ? store_->PutBytes(key_, buffer_) : Complete();
    if (!st.ok()) {
      Abort();
      return st;
    }
    done_ = true;
    buffer_.clear();
    return Status::OK();
  }

  void Abort() override {
    if (done_) return;
    done_ = true;
    buffer_.clear();
    buffer_.shrink_to_fit();
    // Parts still being sent must end before the abort, or one could land after it.
    (void)WaitForAllParts();
    if (upload_id_.empty()) return;
    S3Request request;
    request.method = "DELETE";
    request.bucket = store_->bucket();
    request.key = key_;
    request.query = {{"uploadId", upload_id_}};
    request.what = "abort multipart upload of";
    request.accepted = {404};
    // Best effort: an upload left behind is invisible and a bucket lifecycle rule can reap it.
    (void)store_->client().Send(request);
    upload_id_.clear();
  }

 private:
  std::string Name() const { return S3Client::Name(store_->bucket(), key_); }

  Status FlushParts() {
    if (upload_id_.empty()) {
      S3Request request;
      request.method = "POST";
      request.bucket = store_->bucket();
      request.key = key_;
      request.query = {{"uploads", ""}};
      request.what = "start multipart upload of";
      SLUICE_ASSIGN_OR_RETURN(auto response, store_->client().Send(request));
      upload_id_ = XmlFirst(response.body, "UploadId");
      if (upload_id_.empty())
        return Status::IoError("S3 start multipart upload of {}: no UploadId in the answer", Name());
    }
    while (buffer_.size() >= part_size_) {
      std::string part = buffer_.substr(0, part_size_);
      buffer_.erase(0, part_size_);
      SLUICE_TRY(UploadPart(std::move(part)));
    }
    return Status::OK();
  }

  /// Starts sending one part; waits for the oldest part in flight when too many are.
  Status UploadPart(std::string data) {
    int number = static_cast<int>(etags_.size()) + 1;
    etags_.emplace_back();
    auto send = [client = &store_->client(), bucket = store_->bucket(), key = key_, upload_id = upload_id_, number,
                 name = Name(), data = std::move(data), log_capture = LogCapture::Current()]() -> Result<std::string> {
      LogCaptureScope log_scope(log_capture);  // retry warnings belong to the run's log
      try {
        S3Request request;
        request.method = "PUT";
        request.bucket = bucket;
        request.key = key;
        request.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}};
        request.body = data;
        request.what = fmt::format("upload part {} of", number);
        SLUICE_ASSIGN_OR_RETURN(auto response, client->Send(request));
        std::string etag = response.Header("etag");
        if (etag.empty()) return Status::IoError("S3 upload part {} of {}: no ETag in the answer", number, name);
        return etag;
      } catch (const std::exception& e) {  // a thread entry point: nothing may escape
        return Status::IoError("S3 upload part {} of {} failed: {}", number, name, e.what());
      }
    };
    try {
      in_flight_.emplace_back(number, std::async(std::launch::async, std::move(send)));
    } catch (const std::system_error& e) {
      return Status::IoError("S3 upload part {} of {}: cannot start a thread: {}", number, Name(), e.what());
    }
    while (in_flight_.size() > max_in_flight_ - 1) SLUICE_TRY(WaitForOldestPart());
    return Status::OK();
  }

  Status WaitForOldestPart() {
    auto [number, sending] = std::move(in_flight_.front());
    in_flight_.pop_front();
    auto etag = sending.get();
    if (!etag.ok()) return etag.status();
    etags_[static_cast<size_t>(number) - 1] = std::move(*etag);
    return Status::OK();
  }

  /// Waits for every part in flight; the first failure, if any.
  Status WaitForAllParts() {
    Status first = Status::OK();
    while (!in_flight_.empty()) {
      Status st = WaitForOldestPart();
      if (first.ok() && !st.ok()) first = st;
    }
    return first;
  }

  Status Complete() {
    SLUICE_TRY(FlushParts());
    if (!buffer_.empty() || etags_.empty()) {
      std::string last = std::move(buffer_);
      buffer_.clear();
      SLUICE_TRY(UploadPart(std::move(last)));
    }
    SLUICE_TRY(WaitForAllParts());
    std::string body = "<CompleteMultipartUpload>";
    for (size_t i = 0; i < etags_.size(); ++i) {
      body += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", i + 1, XmlEscape(etags_[i]));
    }
    body += "</CompleteMultipartUpload>";
    S3Request request;
    request.method = "POST";
    request.bucket = store_->bucket();
    request.key = key_;
    request.query = {{"uploadId", upload_id_}};
    request.body = body;
    request.what = "complete multipart upload of";
    SLUICE_TRY(store_->client().Send(request).status());
    upload_id_.clear();
    return Status::OK();
  }

  S3ObjectStore* store_;
  std::string key_;
  uint64_t part_size_ = 0;
  uint64_t threshold_ = 0;
  std::string buffer_;
  std::string upload_id_;
  std::vector<std::string> etags_;  // by part number - 1; filled as parts finish
  size_t max_in_flight_ = 1;
  std::deque<std::pair<int, std::future<Result<std::string>>>> in_flight_;  // oldest first
  bool done_ = false;
};

Result<std::unique_ptr<ObjectWriter>> S3ObjectStore::OpenWrite(const std::string& key) {
  SLUICE_TRY(ValidateObjectKey(key));
  return std::unique_ptr<ObjectWriter>(new S3ObjectWriter(this, FullKey(key)));
}

Status S3ObjectStore::Put(const std::string& key, std::string_view data) {
  SLUICE_TRY(ValidateObjectKey(key));
  if (data.size() <= client_->options().multipart_threshold) return PutBytes(FullKey(key), data);
  SLUICE_ASSIGN_OR_RETURN(auto writer, OpenWrite(key));
  SLUICE_TRY(writer->Write(data));
  return writer->Finish();
}

Status S3ObjectStore::PutFile(const std::string& key, const fs::path& local, bool consume) {
  SLUICE_TRY(ValidateObjectKey(key));
  std::error_code folder_ec;
  if (fs::is_directory(local, folder_ec)) {
    return Status::Invalid("upload to {}: {} is a folder, not a file", Describe(), local.string());
  }
  std::ifstream in(local, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!fs::exists(local, ec))
      return Status::NotFound("upload to {}: local file {} does not exist", Describe(), local.string());
    return Status::IoError("upload to {}: cannot read {}", Describe(), local.string());
  }
  SLUICE_ASSIGN_OR_RETURN(auto writer, OpenWrite(key));
  std::string chunk(std::min<uint64_t>(client_->options().part_size, 8ull << 20), '\0');
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    std::streamsize n = in.gcount();
    if (n > 0) SLUICE_TRY(writer->Write(std::string_view(chunk.data(), static_cast<size_t>(n))));
  }
  if (in.bad()) return Status::IoError("upload to {}: error reading {}", Describe(), local.string());
  SLUICE_TRY(writer->Finish());
  if (consume) {
    std::error_code ec;
    fs::remove(local, ec);
  }
  return Status::OK();
}

}  // namespace

Result<std::pair<std::string, std::string>> ParseS3Uri(const std::string& uri) {
  if (!StartsWith(ToLower(uri), "s3://")) return Status::Invalid("'{}' is not an s3:// URI", uri);
  std::string rest = uri.substr(5);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  size_t slash = rest.find('/');
  std::string bucket = rest.substr(0, slash);
  std::string prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (bucket.empty()) return Status::Invalid("'{}' names no bucket; write s3://bucket or s3://bucket/prefix", uri);
  if (!prefix.empty()) {
    Status valid = ValidateObjectPrefix(prefix);
    if (!valid.ok()) return Status::Invalid("'{}': {}", uri, valid.message());
  }
  return std::make_pair(bucket, prefix);
}

Result<std::unique_ptr<ObjectStore>> MakeS3ObjectStore(const std::string& bucket, const std::string& prefix,
                                                       S3Options options) {
  SLUICE_ASSIGN_OR_RETURN(auto client, S3Client::Make(std::move(options)));
  return std::unique_ptr<ObjectStore>(new S3ObjectStore(std::move(client), bucket, prefix));
}

}  // namespace sluice::storage::s3
