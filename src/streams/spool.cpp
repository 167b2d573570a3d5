#include "streams/spool.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/json_limits.hpp"

namespace sluice::streams {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMagic = "SLSPOOL1";
/// A frame longer than this is corruption, not a record (records are bounded far below).
constexpr uint32_t kMaxFrameBytes = 256u << 20;

uint32_t Crc(FrameKind kind, int64_t arrival_us, std::string_view payload) {
  uLong crc = crc32(0L, Z_NULL, 0);
  auto k = static_cast<unsigned char>(kind);
  crc = crc32(crc, &k, 1);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(&arrival_us), sizeof(arrival_us));
  crc = crc32_z(crc, reinterpret_cast<const Bytef*>(payload.data()), payload.size());
  return static_cast<uint32_t>(crc);
}

Status WriteAll(int fd, std::string_view bytes, const fs::path& file) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError("cannot write the stream spool {}: {}; check the disk's free space", file.string(),
                             std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

Status SyncFolder(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return Status::IoError("cannot open the spool folder {}: {}", dir.string(), std::strerror(errno));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Status::IoError("cannot sync the spool folder {}: {}", dir.string(), std::strerror(errno));
  return Status::OK();
}

std::optional<uint64_t> ParseSegmentName(const std::string& name) {
  if (name.size() != 24 || name.substr(20) != ".seg") return std::nullopt;
  uint64_t value = 0;
  for (size_t i = 0; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  return value;
}

}  // namespace

struct Spool::Segment {
  uint64_t seq = 0;
  fs::path file;
  int fd = -1;
  uint64_t bytes = 0;
  uint64_t record_bytes = 0;
  uint64_t records = 0;
  std::optional<TimePoint> oldest;
  ~Segment() {
    if (fd >= 0) ::close(fd);
  }
};

void AppendFrame(std::string* out, FrameKind kind, TimePoint arrival, std::string_view payload) {
  int64_t arrival_us = ToUnixMicros(arrival);
  uint32_t length = static_cast<uint32_t>(payload.size());
  uint32_t crc = Crc(kind, arrival_us, payload);
  auto k = static_cast<char>(kind);
  out->append(reinterpret_cast<const char*>(&length), 4);
  out->append(reinterpret_cast<const char*>(&crc), 4);
  out->push_back(k);
  out->append(reinterpret_cast<const char*>(&arrival_us), 8);
  out->append(payload);
}

Result<uint64_t> ReadSegment(const fs::path& file,
                             const std::function<Status(FrameKind, TimePoint, std::string_view)>& each) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::IoError("cannot read the stream spool segment {}", file.string());
  std::string magic(kMagic.size(), '\0');
  in.read(magic.data(), static_cast<std::streamsize>(magic.size()));
  if (in.gcount() != static_cast<std::streamsize>(kMagic.size()) || magic != kMagic) return uint64_t{0};
  uint64_t good = kMagic.size();
  std::string payload;
  char header[kFrameHeaderBytes];
  for (;;) {
    in.read(header, kFrameHeaderBytes);
    if (in.gcount() != static_cast<std::streamsize>(kFrameHeaderBytes)) break;
    uint32_t length, crc;
    int64_t arrival_us;
    std::memcpy(&length, header, 4);
    std::memcpy(&crc, header + 4, 4);
    auto kind = static_cast<FrameKind>(static_cast<unsigned char>(header[8]));
    std::memcpy(&arrival_us, header + 9, 8);
    if (length > kMaxFrameBytes || (kind != FrameKind::kRecord && kind != FrameKind::kAnswer)) break;
    payload.resize(length);
    in.read(payload.data(), length);
    if (in.gcount() != static_cast<std::streamsize>(length)) break;
    if (Crc(kind, arrival_us, payload) != crc) break;
    SLUICE_TRY(each(kind, FromUnixMicros(arrival_us), payload));
    good += kFrameHeaderBytes + length;
  }
  return good;
}

std::string Spool::SegmentName(uint64_t segment) { return fmt::format("{:020d}.seg", segment); }

Spool::Spool(SpoolOptions options) : options_(std::move(options)) {}

Spool::~Spool() = default;

fs::path Spool::SegmentPath(uint64_t segment) const { return options_.dir / SegmentName(segment); }

Result<std::unique_ptr<Spool>> Spool::Open(SpoolOptions options, uint64_t committed_segment, TimePoint now) {
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) return Status::IoError("cannot create the stream spool folder {}: {}", options.dir.string(), ec.message());
  std::unique_ptr<Spool> spool(new Spool(std::move(options)));
  std::vector<uint64_t> found;
  for (const auto& entry : fs::directory_iterator(spool->options_.dir, ec)) {
    if (auto seq = ParseSegmentName(entry.path().filename().string())) found.push_back(*seq);
  }
  if (ec) return Status::IoError("cannot list the stream spool {}: {}", spool->options_.dir.string(), ec.message());
  std::sort(found.begin(), found.end());
  uint64_t last = committed_segment;
  std::vector<uint64_t> empty;
  for (uint64_t seq : found) {
    last = std::max(last, seq);
    fs::path file = spool->SegmentPath(seq);
    if (seq <= committed_segment) {
      // In the lake already: the process stopped between the commit and the deletion.
      fs::remove(file, ec);
      continue;
    }
    uint64_t records = 0;
    auto good = ReadSegment(file, [&](FrameKind kind, TimePoint arrival, std::string_view payload) -> Status {
      if (kind == FrameKind::kRecord) {
        ++records;
        return Status::OK();
      }
      auto entry = ParseJsonOrDiscarded(payload);
      if (entry.is_object() && entry.contains("k") && entry["k"].is_string() && entry.contains("a") &&
          entry["a"].is_string()) {
        spool->Remember(entry["k"].get<std::string>(), entry["a"].get<std::string>(), arrival, 0);
      }
      return Status::OK();
    });
    if (!good.ok()) return good.status();
    uint64_t size = fs::file_size(file, ec);
    if (!ec && *good < size) {
      // Never acknowledged: an answer waits for the fsync that covers the whole write.
      spdlog::warn("stream spool {}: dropping a torn tail of {} bytes (a write the process did not finish)",
                   file.string(), size - *good);
      fs::resize_file(file, *good, ec);
      if (ec) return Status::IoError("cannot truncate the torn tail of {}: {}", file.string(), ec.message());
    }
    if (records == 0) {
      empty.push_back(seq);
    } else {
      spool->sealed_[seq] = *good;
    }
  }
  spool->Forget(now);
  {
    std::lock_guard lock(spool->mutex_);
    SLUICE_TRY(spool->StartSegment(last + 1, now));
  }
  // Their remembered answers live on in the new segment.
  for (uint64_t seq : empty) fs::remove(spool->SegmentPath(seq), ec);
  return spool;
}

Status Spool::StartSegment(uint64_t seq, TimePoint now) {
  auto segment = std::make_shared<Segment>();
  segment->seq = seq;
  segment->file = SegmentPath(seq);
  segment->fd = ::open(segment->file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (segment->fd < 0) {
    return Status::IoError("cannot create the stream spool segment {}: {}", segment->file.string(),
                           std::strerror(errno));
  }
  // The idempotency answers move forward with every segment, so deleting an old one forgets none.
  Forget(now);
  std::string head(kMagic);
  for (const auto& [key, seen] : answer_order_) {
    auto found = answers_.find(key);
    if (found == answers_.end()) continue;
    AppendFrame(&head, FrameKind::kAnswer, found->second.seen,
                nlohmann::json{{"k", key}, {"a", found->second.answer}}.dump());
  }
  SLUICE_TRY(WriteAll(segment->fd, head, segment->file));
  if (::fdatasync(segment->fd) != 0) {
    return Status::IoError("cannot sync the stream spool segment {}: {}", segment->file.string(), std::strerror(errno));
  }
  SLUICE_TRY(SyncFolder(options_.dir));
  segment->bytes = head.size();
  active_ = std::move(segment);
  return Status::OK();
}

void Spool::Remember(const std::string& key, const std::string& answer, TimePoint seen, uint64_t position) {
  if (answers_.emplace(key, Answer{answer, seen, position}).second) answer_order_.emplace_back(key, seen);
}

void Spool::Forget(TimePoint now) {
  while (!answer_order_.empty() &&
         (answer_order_.size() > options_.max_keys || now - answer_order_.front().second > options_.key_ttl)) {
    answers_.erase(answer_order_.front().first);
    answer_order_.pop_front();
  }
}

Result<AppendOutcome> Spool::Append(const std::vector<std::string_view>& records, const std::string& key,
                                    const std::string& answer, TimePoint now) {
  std::string frames;
  size_t total = 0;
  for (auto record : records) total += kFrameHeaderBytes + record.size();
  frames.reserve(total + (key.empty() ? 0 : kFrameHeaderBytes + key.size() + answer.size() + 32));
  for (auto record : records) AppendFrame(&frames, FrameKind::kRecord, now, record);
  std::string answer_frame;
  if (!key.empty()) {
    AppendFrame(&answer_frame, FrameKind::kAnswer, now, nlohmann::json{{"k", key}, {"a", answer}}.dump());
  }

  std::lock_guard lock(mutex_);
  if (!failed_.ok()) return failed_;
  AppendOutcome outcome;
  if (!key.empty()) {
    if (auto found = answers_.find(key); found != answers_.end()) {
      outcome.kind = AppendOutcome::Kind::kRemembered;
      outcome.answer = found->second.answer;
      outcome.ticket.position = found->second.position;
      return outcome;
    }
  }
  uint64_t on_disk = active_->bytes;
  for (const auto& [seq, bytes] : sealed_) on_disk += bytes;
  if (on_disk + frames.size() > options_.max_spool_bytes) {
    outcome.kind = AppendOutcome::Kind::kFull;
    return outcome;
  }
  // The answer frame goes in the same write as the records: both are durable, or neither.
  frames += answer_frame;
  Status written = WriteAll(active_->fd, frames, active_->file);
  if (!written.ok()) {
    // A partial write would leave a torn frame in the middle of the segment: stop accepting.
    failed_ = written;
    return written;
  }
  active_->bytes += frames.size();
  active_->records += records.size();
  for (auto record : records) active_->record_bytes += record.size();
  if (!active_->oldest && !records.empty()) active_->oldest = now;
  appended_ += frames.size();
  outcome.ticket = SpoolTicket{appended_, active_->seq};
  if (!key.empty()) {
    Remember(key, answer, now, appended_);
    Forget(now);
  }
  return outcome;
}

Status Spool::WaitDurable(uint64_t position) {
  std::unique_lock lock(mutex_);
  while (durable_ < position) {
    if (!failed_.ok()) return failed_;
    if (syncing_) {
      durable_cv_.wait(lock);
      continue;
    }
    // This caller syncs for everyone whose bytes are written by now.
    syncing_ = true;
    uint64_t target = appended_;
    std::shared_ptr<Segment> segment = active_;
    lock.unlock();
    int rc = ::fdatasync(segment->fd);
    int error = errno;
    lock.lock();
    syncing_ = false;
    if (rc != 0) {
      failed_ = Status::IoError("cannot sync the stream spool {}: {}; restart sluice serve once the disk is fixed",
                                segment->file.string(), std::strerror(error));
    } else {
      durable_ = std::max(durable_, target);
    }
    durable_cv_.notify_all();
  }
  return Status::OK();
}

ActiveSegmentState Spool::Active() const {
  std::lock_guard lock(mutex_);
  return ActiveSegmentState{active_->seq, active_->record_bytes, active_->records, active_->oldest};
}

Result<std::vector<uint64_t>> Spool::Seal(TimePoint now) {
  std::lock_guard lock(mutex_);
  if (!failed_.ok()) return failed_;
  if (active_->records > 0) {
    // Everything in the sealed segment is durable before the flusher reads it.
    if (::fdatasync(active_->fd) != 0) {
      failed_ = Status::IoError("cannot sync the stream spool {}: {}", active_->file.string(), std::strerror(errno));
      return failed_;
    }
    durable_ = appended_;
    durable_cv_.notify_all();
    auto old = active_;
    SLUICE_TRY(StartSegment(old->seq + 1, now));
    sealed_[old->seq] = old->bytes;
  }
  std::vector<uint64_t> sealed;
  for (const auto& [seq, bytes] : sealed_) sealed.push_back(seq);
  return sealed;
}

std::vector<uint64_t> Spool::Sealed() const {
  std::lock_guard lock(mutex_);
  std::vector<uint64_t> sealed;
  for (const auto& [seq, bytes] : sealed_) sealed.push_back(seq);
  return sealed;
}

Status Spool::Drop(uint64_t segment) {
  std::vector<uint64_t> dropping;
  {
    std::lock_guard lock(mutex_);
    for (auto it = sealed_.begin(); it != sealed_.end() && it->first <= segment;) {
      dropping.push_back(it->first);
      it = sealed_.erase(it);
    }
  }
  for (uint64_t seq : dropping) {
    std::error_code ec;
    fs::remove(SegmentPath(seq), ec);
    if (ec)
      spdlog::warn("stream spool: cannot delete {} (in the lake already): {}", SegmentPath(seq).string(), ec.message());
  }
  return Status::OK();
}

uint64_t Spool::disk_bytes() const {
  std::lock_guard lock(mutex_);
  uint64_t total = active_->bytes;
  for (const auto& [seq, bytes] : sealed_) total += bytes;
  return total;
}

uint64_t Spool::durable_position() const {
  std::lock_guard lock(mutex_);
  return durable_;
}

}  // namespace sluice::streams
