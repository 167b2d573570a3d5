#include "scheduler/triggers/time_zone.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "common/strings.hpp"

namespace sluice::scheduler::triggers {

namespace {

constexpr int64_t kSecondsPerDay = 86400;

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int* year, int* month, int* day) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *year = static_cast<int>(y + (*month <= 2));
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

int64_t UnixSeconds(TimePoint t) {
  return FloorDiv(std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count(), 1000000);
}

TimePoint FromUnixSeconds(int64_t s) { return TimePoint(std::chrono::seconds(s)); }

}  // namespace

int CivilTime::Weekday() const {
  int64_t days = DaysFromCivil(year, month, day);
  return static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
}

int64_t CivilTime::ToSeconds() const {
  return DaysFromCivil(year, month, day) * kSecondsPerDay + hour * 3600 + minute * 60 + second;
}

CivilTime CivilTime::FromSeconds(int64_t seconds) {
  CivilTime c;
  int64_t days = FloorDiv(seconds, kSecondsPerDay);
  int64_t rest = seconds - days * kSecondsPerDay;
  CivilFromDays(days, &c.year, &c.month, &c.day);
  c.hour = static_cast<int>(rest / 3600);
  c.minute = static_cast<int>(rest % 3600 / 60);
  c.second = static_cast<int>(rest % 60);
  return c;
}

std::string CivilTime::ToString() const {
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", year, month, day, hour, minute, second);
}

// ---------------------------------------------------------------------------------------------
// POSIX TZ rule (the TZif footer), e.g. "CET-1CEST,M3.5.0,M10.5.0/3" or "<+0330>-3:30".

struct TimeZone::PosixRule {
  struct Date {
    enum class Form { kJulianNoLeap, kZeroBased, kMonthWeekDay } form = Form::kMonthWeekDay;
    int a = 0, b = 0, c = 0;  // Jn: a=n; n: a=n; Mm.w.d: a=m, b=w, c=d
    int32_t time = 7200;      // seconds after local midnight (may be negative or past 24h)
  };
  int32_t std_offset = 0;  // seconds east of UTC
  bool has_dst = false;
  int32_t dst_offset = 0;
  Date start, end;

  // Local days-since-epoch of the rule date in `year`.
  static int64_t DayOf(const Date& d, int year) {
    switch (d.form) {
      case Date::Form::kJulianNoLeap: {
        int n = d.a;  // 1..365, Feb 29 never counted
        int64_t day = DaysFromCivil(year, 1, 1) + n - 1;
        if (IsLeap(year) && n >= 60) ++day;
        return day;
      }
      case Date::Form::kZeroBased: return DaysFromCivil(year, 1, 1) + d.a;
      case Date::Form::kMonthWeekDay: {
        int64_t first = DaysFromCivil(year, d.a, 1);
        int first_wday = static_cast<int>(((first % 7) + 11) % 7);
        int64_t day = first + (d.c - first_wday + 7) % 7 + (d.b - 1) * 7;
        int64_t last = first + DaysInMonth(year, d.a) - 1;
        while (day > last) day -= 7;  // week 5 = the last such weekday
        return day;
      }
    }
    return 0;
  }

  int32_t OffsetAt(int64_t unix_seconds) const {
    if (!has_dst) return std_offset;
    int year = CivilTime::FromSeconds(unix_seconds + std_offset).year;
    auto in_dst = [&](int y) {
      int64_t dst_start = DayOf(start, y) * kSecondsPerDay + start.time - std_offset;
      int64_t dst_end = DayOf(end, y) * kSecondsPerDay + end.time - dst_offset;
      if (dst_start < dst_end) return unix_seconds >= dst_start && unix_seconds < dst_end;
      return !(unix_seconds >= dst_end && unix_seconds < dst_start);  // southern hemisphere
    };
    return in_dst(year) ? dst_offset : std_offset;
  }
};

namespace {

class RuleParser {
 public:
  explicit RuleParser(std::string_view text) : text_(text) {}

  Result<TimeZone::PosixRule> Parse() {
    TimeZone::PosixRule rule;
    if (!Name()) return Fail("a zone abbreviation such as CET or <+0330>");
    auto std_off = Offset();
    if (!std_off) return Fail("the standard offset, e.g. -1 or 5");
    rule.std_offset = -*std_off;  // POSIX counts west of UTC as positive
    if (AtEnd()) return rule;
    if (!Name()) return Fail("a daylight-saving abbreviation");
    rule.has_dst = true;
    rule.dst_offset = rule.std_offset + 3600;
    if (!AtEnd() && Peek() != ',') {
      auto dst_off = Offset();
      if (!dst_off) return Fail("the daylight-saving offset");
      rule.dst_offset = -*dst_off;
    }
    if (AtEnd()) {
      // No rule given: POSIX leaves it to the implementation; tzcode uses the US rules.
      rule.start = {TimeZone::PosixRule::Date::Form::kMonthWeekDay, 3, 2, 0, 7200};
      rule.end = {TimeZone::PosixRule::Date::Form::kMonthWeekDay, 11, 1, 0, 7200};
      return rule;
    }
    if (!Eat(',')) return Fail("',' before the start rule");
    if (!DateRule(&rule.start)) return Fail("a start rule such as M3.5.0/2");
    if (!Eat(',')) return Fail("',' before the end rule");
    if (!DateRule(&rule.end)) return Fail("an end rule such as M10.5.0/3");
    if (!AtEnd()) return Fail("the end of the rule");
    return rule;
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }
  bool Eat(char c) {
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }
  Status Fail(std::string_view expected) const {
    return Status::DataError("POSIX TZ rule '{}': expected {} at position {}", text_, expected, pos_ + 1);
  }
  bool Name() {
    if (Eat('<')) {
      size_t close = text_.find('>', pos_);
      if (close == std::string_view::npos) return false;
      pos_ = close + 1;
      return true;
    }
    size_t begin = pos_;
    while (!AtEnd() && std::isalpha(static_cast<unsigned char>(Peek()))) ++pos_;
    return pos_ - begin >= 3;
  }
  std::optional<int> Number() {
    size_t begin = pos_;
    int n = 0;
    while (!AtEnd() && std::isdigit(static_cast<unsigned char>(Peek()))) {
      if (n > 99'999) return std::nullopt;  // no field of a rule is this long; n * 10 would overflow soon
      n = n * 10 + (text_[pos_++] - '0');
    }
    if (pos_ == begin) return std::nullopt;
    return n;
  }
  // [+-]hh[:mm[:ss]] in seconds.
  std::optional<int32_t> Offset() {
    int sign = 1;
    if (Eat('-'))
      sign = -1;
    else
      Eat('+');
    auto h = Number();
    if (!h || *h > 167) return std::nullopt;  // RFC 8536 allows transition times up to 167 hours
    int32_t total = *h * 3600;
    if (Eat(':')) {
      auto m = Number();
      if (!m || *m > 59) return std::nullopt;
      total += *m * 60;
      if (Eat(':')) {
        auto s = Number();
        if (!s || *s > 59) return std::nullopt;
        total += *s;
      }
    }
    return sign * total;
  }
  bool DateRule(TimeZone::PosixRule::Date* d) {
    using Form = TimeZone::PosixRule::Date::Form;
    if (Eat('M')) {
      d->form = Form::kMonthWeekDay;
      auto m = Number();
      if (!m || !Eat('.')) return false;
      auto w = Number();
      if (!w || !Eat('.')) return false;
      auto wd = Number();
      if (!wd || *m < 1 || *m > 12 || *w < 1 || *w > 5 || *wd > 6) return false;
      d->a = *m, d->b = *w, d->c = *wd;
    } else if (Eat('J')) {
      d->form = Form::kJulianNoLeap;
      auto n = Number();
      if (!n || *n < 1 || *n > 365) return false;
      d->a = *n;
    } else {
      d->form = Form::kZeroBased;
      auto n = Number();
      if (!n || *n > 365) return false;
      d->a = *n;
    }
    d->time = 7200;
    if (Eat('/')) {
      auto t = Offset();
      if (!t) return false;
      d->time = *t;
    }
    return true;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// Big-endian readers over the TZif bytes.
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}
  bool Has(size_t n) const { return pos_ + n <= bytes_.size(); }
  size_t pos() const { return pos_; }
  void Skip(size_t n) { pos_ += n; }
  uint8_t U8() { return static_cast<uint8_t>(bytes_[pos_++]); }
  int64_t BigEndian(int width) {
    uint64_t v = 0;
    for (int i = 0; i < width; ++i) v = (v << 8) | static_cast<uint8_t>(bytes_[pos_++]);
    if (width == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
    return static_cast<int64_t>(v);
  }
  std::string_view Rest() const { return bytes_.substr(pos_); }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

struct TzifCounts {
  int64_t isut = 0, isstd = 0, leap = 0, time = 0, type = 0, chars = 0;
  size_t DataBytes(int time_width) const {
    return static_cast<size_t>(time * time_width + time + type * 6 + chars + leap * (time_width + 4) + isstd + isut);
  }
};

bool ReadHeader(ByteReader* r, char* version, TzifCounts* counts) {
  if (!r->Has(44)) return false;
  if (r->Rest().substr(0, 4) != "TZif") return false;
  r->Skip(4);
  *version = static_cast<char>(r->U8());
  r->Skip(15);
  counts->isut = r->BigEndian(4);
  counts->isstd = r->BigEndian(4);
  counts->leap = r->BigEndian(4);
  counts->time = r->BigEndian(4);
  counts->type = r->BigEndian(4);
  counts->chars = r->BigEndian(4);
  return counts->isut >= 0 && counts->isstd >= 0 && counts->leap >= 0 && counts->time >= 0 && counts->type >= 1 &&
         counts->chars >= 0;
}

std::filesystem::path ZoneinfoDir(const std::filesystem::path& given) {
  if (!given.empty()) return given;
  if (const char* dir = std::getenv("TZDIR"); dir != nullptr && *dir != '\0') return dir;
  return "/usr/share/zoneinfo";
}

/// Zone names listed by tzdata (for "did you mean" hints).
std::vector<std::string> KnownZoneNames(const std::filesystem::path& dir) {
  std::vector<std::string> names = {"UTC"};
  std::ifstream in(dir / "tzdata.zi");
  std::string line;
  while (std::getline(in, line)) {
    // "Z Europe/Berlin 0:53:28 - LMT 1893 Ap" and "L Europe/Zurich Europe/Busingen"
    if (StartsWith(line, "Z ")) {
      auto parts = Split(line, ' ');
      if (parts.size() > 1) names.push_back(parts[1]);
    } else if (StartsWith(line, "L ")) {
      auto parts = Split(line, ' ');
      if (parts.size() > 2) names.push_back(parts[2]);
    }
  }
  return names;
}

}  // namespace

TimeZone::TimeZone() = default;
TimeZone::~TimeZone() = default;

std::shared_ptr<const TimeZone> TimeZone::Utc() {
  static const std::shared_ptr<const TimeZone> kUtc = [] {
    std::shared_ptr<TimeZone> zone(new TimeZone());
    zone->name_ = "UTC";
    return zone;
  }();
  return kUtc;
}

Result<std::shared_ptr<const TimeZone>> TimeZone::FromPosixRule(const std::string& name, const std::string& rule) {
  SLUICE_ASSIGN_OR_RETURN(auto parsed, RuleParser(rule).Parse());
  std::shared_ptr<TimeZone> zone(new TimeZone());
  zone->name_ = name;
  zone->offset_before_first_ = parsed.std_offset;
  zone->footer_ = std::make_unique<PosixRule>(parsed);
  return std::shared_ptr<const TimeZone>(std::move(zone));
}

Result<std::shared_ptr<const TimeZone>> TimeZone::FromTzif(const std::string& name, std::string_view bytes) {
  auto malformed = [&](std::string_view what) {
    return Status::DataError("time zone file of '{}' is not a valid TZif file ({}); reinstall tzdata", name, what);
  };
  ByteReader r(bytes);
  char version = 0;
  TzifCounts counts;
  if (!ReadHeader(&r, &version, &counts)) return malformed("bad header");
  int width = 4;
  if (version >= '2') {
    // Skip the 32-bit section; the 64-bit one follows with its own header.
    if (!r.Has(counts.DataBytes(4))) return malformed("truncated version 1 data");
    r.Skip(counts.DataBytes(4));
    if (!ReadHeader(&r, &version, &counts)) return malformed("bad version 2 header");
    width = 8;
  }
  if (counts.leap > 0) {
    return Status::Invalid("time zone '{}' counts leap seconds (a right/ zone); use the zone without right/", name);
  }
  if (!r.Has(counts.DataBytes(width))) return malformed("truncated data");

  std::vector<int64_t> times(static_cast<size_t>(counts.time));
  for (auto& t : times) t = r.BigEndian(width);
  std::vector<uint8_t> indices(static_cast<size_t>(counts.time));
  for (auto& i : indices) {
    i = r.U8();
    if (i >= counts.type) return malformed("transition names a missing type");
  }
  std::vector<int32_t> type_offsets(static_cast<size_t>(counts.type));
  for (auto& off : type_offsets) {
    off = static_cast<int32_t>(r.BigEndian(4));
    r.Skip(2);  // isdst, abbreviation index
  }
  r.Skip(static_cast<size_t>(counts.chars + counts.isstd + counts.isut));

  std::shared_ptr<TimeZone> zone(new TimeZone());
  zone->name_ = name;
  zone->transitions_ = std::move(times);
  for (uint8_t i : indices) zone->offset_after_.push_back(type_offsets[i]);
  zone->offset_before_first_ = type_offsets[0];  // RFC 8536: type 0 applies before the first transition
  if (!std::is_sorted(zone->transitions_.begin(), zone->transitions_.end())) return malformed("unsorted transitions");

  if (width == 8) {
    std::string_view footer = r.Rest();
    if (footer.size() >= 2 && footer[0] == '\n') {
      size_t end = footer.find('\n', 1);
      if (end == std::string_view::npos) return malformed("unterminated footer");
      std::string rule(footer.substr(1, end - 1));
      if (!rule.empty()) {
        SLUICE_ASSIGN_OR_RETURN(auto parsed, RuleParser(rule).Parse());
        zone->footer_ = std::make_unique<PosixRule>(parsed);
      }
    }
  }
  return std::shared_ptr<const TimeZone>(std::move(zone));
}

Result<std::shared_ptr<const TimeZone>> TimeZone::Load(const std::string& name,
                                                       const std::filesystem::path& zoneinfo_dir) {
  if (name == "UTC" || name == "Etc/UTC" || name == "Z" || name == "Etc/Zulu" || name == "Zulu") return Utc();
  std::filesystem::path dir = ZoneinfoDir(zoneinfo_dir);
  bool plain = !name.empty() && name[0] != '/' && name.find("..") == std::string::npos &&
               std::all_of(name.begin(), name.end(), [](char c) {
                 return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' || c == '+';
               });
  std::filesystem::path file = dir / name;
  std::ifstream in;
  if (plain) in.open(file, std::ios::binary);
  if (!plain || !in) {
    std::string hint;
    std::string nearest = NearestWord(name, KnownZoneNames(dir));
    if (!nearest.empty()) hint = fmt::format(" (did you mean '{}'?)", nearest);
    return Status::Invalid(
        "unknown time zone '{}': no file {} (looked in {}, the tzdata folder; set TZDIR to look elsewhere){}; use an "
        "IANA name such as Europe/Berlin or UTC",
        name, file.string(), dir.string(), hint);
  }
  std::stringstream bytes;
  bytes << in.rdbuf();
  return FromTzif(name, bytes.str());
}

int32_t TimeZone::OffsetAtSeconds(int64_t unix_seconds) const {
  if (transitions_.empty() || unix_seconds < transitions_.front()) {
    if (transitions_.empty() && footer_) return footer_->OffsetAt(unix_seconds);
    return offset_before_first_;
  }
  if (unix_seconds >= transitions_.back() && footer_) return footer_->OffsetAt(unix_seconds);
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), unix_seconds);
  return offset_after_[static_cast<size_t>(it - transitions_.begin()) - 1];
}

int32_t TimeZone::OffsetAt(TimePoint t) const { return OffsetAtSeconds(UnixSeconds(t)); }

CivilTime TimeZone::ToLocal(TimePoint t) const {
  int64_t s = UnixSeconds(t);
  return CivilTime::FromSeconds(s + OffsetAtSeconds(s));
}

LocalTimeMapping TimeZone::FromLocal(const CivilTime& local) const {
  const int64_t wall = local.ToSeconds();
  // Offsets in effect a day either side: real zones change offset at most once within two days.
  const int32_t before = OffsetAtSeconds(wall - kSecondsPerDay);
  const int32_t after = OffsetAtSeconds(wall + kSecondsPerDay);
  std::vector<int64_t> valid;
  for (int32_t off : {before, after}) {
    int64_t candidate = wall - off;
    if (OffsetAtSeconds(candidate) == off && std::find(valid.begin(), valid.end(), candidate) == valid.end()) {
      valid.push_back(candidate);
    }
  }
  if (!valid.empty()) {
    std::sort(valid.begin(), valid.end());
    return {FromUnixSeconds(valid.front()), valid.size() > 1 ? LocalTimeKind::kRepeated : LocalTimeKind::kUnique};
  }
  // In a gap: the transition lies between wall - after and wall - before; find its first second.
  int64_t lo = wall - std::max(before, after);
  int64_t hi = wall - std::min(before, after);
  const int32_t offset_lo = OffsetAtSeconds(lo);
  while (lo + 1 < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (OffsetAtSeconds(mid) == offset_lo)
      lo = mid;
    else
      hi = mid;
  }
  return {FromUnixSeconds(hi), LocalTimeKind::kSkipped};
}

}  // namespace sluice::scheduler::triggers
