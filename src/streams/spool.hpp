#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"
#include "common/status.hpp"

// The durable buffer of one stream: append-only segment files of length+CRC framed records under
// .sluice/streams/<name>/. A request is answered only once its records are fsync'd; concurrent requests
// share one fsync (group commit). A segment is sealed for a flush and deleted only after the catalog
// commit that records it as landed, so the spool and the lake never both lose or both keep a record.
namespace sluice::streams {

/// What a frame holds.
enum class FrameKind : uint8_t { kRecord = 1, kAnswer = 2 };

struct SpoolOptions {
  std::filesystem::path dir;
  uint64_t max_spool_bytes = 1ull << 30;
  /// Idempotency keys remembered (oldest forgotten first), and for how long.
  size_t max_keys = 100000;
  std::chrono::seconds key_ttl = std::chrono::hours(24);
};

/// Where an append ended: durable once the spool's synced position reaches `position`; its records are in
/// the lake once the committed segment reaches `segment`.
struct SpoolTicket {
  uint64_t position = 0;
  uint64_t segment = 0;
};

struct AppendOutcome {
  enum class Kind { kAppended, kRemembered, kFull } kind = Kind::kAppended;
  SpoolTicket ticket;
  std::string answer;  // kRemembered: the answer given to the first request with the key
};

/// The state the flusher decides on.
struct ActiveSegmentState {
  uint64_t segment = 0;
  uint64_t record_bytes = 0;
  uint64_t records = 0;
  std::optional<TimePoint> oldest;
};

/// Calls `each(kind, arrival, payload)` for every whole frame of a segment file, reading it in chunks
/// (never the whole file); stops at the first torn or corrupt frame and returns the offset of the
/// end of the last whole frame.
Result<uint64_t> ReadSegment(const std::filesystem::path& file,
                             const std::function<Status(FrameKind, TimePoint, std::string_view)>& each);

/// One frame as bytes: [u32 length][u32 crc32][u8 kind][i64 arrival µs][payload].
void AppendFrame(std::string* out, FrameKind kind, TimePoint arrival, std::string_view payload);
inline constexpr size_t kFrameHeaderBytes = 17;

class Spool {
 public:
  /// Opens (creating) the spool folder. Segments up to `committed_segment` are in the lake already and are
  /// deleted; the others are recovered (a torn tail truncated), sealed, and their idempotency answers
  /// remembered. Appends go to a new segment.
  static Result<std::unique_ptr<Spool>> Open(SpoolOptions options, uint64_t committed_segment, TimePoint now);
  ~Spool();

  /// Appends `records` (each one line of JSON) and, with a non-empty `key`, the request's `answer` under
  /// that key — unless the key is remembered (kRemembered, nothing appended) or the spool is over its bound
  /// (kFull). Not durable until WaitDurable(ticket.position).
  Result<AppendOutcome> Append(const std::vector<std::string_view>& records, const std::string& key,
                               const std::string& answer, TimePoint now);
  /// Blocks until everything up to `position` is fsync'd; one caller syncs for all who wait (group commit).
  Status WaitDurable(uint64_t position);

  ActiveSegmentState Active() const;
  /// Seals the active segment when it holds records (a new one takes the appends); returns the sealed
  /// segments in order, oldest first.
  Result<std::vector<uint64_t>> Seal(TimePoint now);
  std::vector<uint64_t> Sealed() const;
  std::filesystem::path SegmentPath(uint64_t segment) const;
  /// The segments up to `segment` are committed to the lake: deletes them.
  Status Drop(uint64_t segment);

  uint64_t disk_bytes() const;
  uint64_t durable_position() const;

  static std::string SegmentName(uint64_t segment);

 private:
  struct Segment;
  explicit Spool(SpoolOptions options);
  Status StartSegment(uint64_t segment, TimePoint now);  // mutex_ held
  void Remember(const std::string& key, const std::string& answer, TimePoint seen, uint64_t position);
  void Forget(TimePoint now);

  SpoolOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable durable_cv_;
  std::shared_ptr<Segment> active_;
  std::map<uint64_t, uint64_t> sealed_;  // segment → bytes on disk
  uint64_t appended_ = 0;                // logical position: every byte ever appended by this process
  uint64_t durable_ = 0;
  bool syncing_ = false;
  Status failed_;  // an fsync failed: nothing more is acknowledged (the page cache may have dropped data)

  struct Answer {
    std::string answer;
    TimePoint seen;
    uint64_t position;
  };
  std::unordered_map<std::string, Answer> answers_;
  std::deque<std::pair<std::string, TimePoint>> answer_order_;
};

}  // namespace sluice::streams
