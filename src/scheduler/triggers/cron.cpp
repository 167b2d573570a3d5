#include "scheduler/triggers/cron.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <vector>

#include "common/strings.hpp"

namespace sluice::scheduler::triggers {

namespace {

struct FieldRule {
  const char* name;
  int min, max;
  std::vector<std::string> names;  // names[i] stands for min + i (empty: numbers only)
};

const FieldRule kSecond{"second", 0, 59, {}};
const FieldRule kMinute{"minute", 0, 59, {}};
const FieldRule kHour{"hour", 0, 23, {}};
const FieldRule kDayOfMonth{"day of month", 1, 31, {}};
const FieldRule kMonth{
    "month", 1, 12, {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}};
// 7 is accepted as Sunday too; folded to 0 after parsing.
const FieldRule kDayOfWeek{"day of week", 0, 7, {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}};

Status FieldError(const std::string& expression, const FieldRule& rule, std::string_view text, std::string_view why) {
  std::string names;
  if (!rule.names.empty()) names = fmt::format(" or {}-{}", rule.names.front(), rule.names.back());
  return Status::Invalid(
      "cron expression '{}': {} field '{}' {} (allowed: {}-{}{}, *, lists a,b, ranges a-b, steps */n)", expression,
      rule.name, text, why, rule.min, rule.max, names);
}

Result<int> ParseValue(const std::string& expression, const FieldRule& rule, std::string_view field,
                       std::string_view text) {
  if (text.empty()) return FieldError(expression, rule, field, "has an empty value");
  std::string upper;
  for (char c : text) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (size_t i = 0; i < rule.names.size(); ++i) {
    if (upper == rule.names[i]) return rule.min + static_cast<int>(i);
  }
  int value = 0;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c)) || value > 1000) {
      if (std::isalpha(static_cast<unsigned char>(c)) && !rule.names.empty()) {
        std::string nearest = NearestWord(upper, rule.names);
        return FieldError(expression, rule, field,
                          fmt::format("has an unknown name '{}'{}", text,
                                      nearest.empty() ? "" : fmt::format(" (did you mean '{}'?)", nearest)));
      }
      return FieldError(expression, rule, field, fmt::format("has '{}', which is not a number", text));
    }
    value = value * 10 + (c - '0');
  }
  if (value < rule.min || value > rule.max) {
    return FieldError(expression, rule, field, fmt::format("has {}, outside the range", value));
  }
  return value;
}

/// Sets the bits of `field` in `bits` (indexed by value). Returns whether the field started with '*' or '?'.
template <size_t N>
Result<bool> ParseField(const std::string& expression, const FieldRule& rule, const std::string& field,
                        std::bitset<N>* bits) {
  bool star = !field.empty() && (field[0] == '*' || field[0] == '?');
  for (const std::string& part : Split(field, ',')) {
    std::string_view range = part;
    int step = 1;
    if (size_t slash = range.find('/'); slash != std::string_view::npos) {
      std::string_view step_text = range.substr(slash + 1);
      FieldRule step_rule{rule.name, 1, rule.max - rule.min + 1, {}};
      SLUICE_ASSIGN_OR_RETURN(step, ParseValue(expression, step_rule, field, step_text));
      range = range.substr(0, slash);
    }
    int low = rule.min, high = rule.max;
    if (range == "*" || range == "?") {
      if ((range == "?") && rule.name != kDayOfMonth.name && rule.name != kDayOfWeek.name) {
        return FieldError(expression, rule, field, "uses '?', which only the day fields accept");
      }
      if (rule.name == kDayOfWeek.name) high = 6;  // '*' must not count Sunday twice (0 and 7)
    } else if (size_t dash = range.find('-'); dash != std::string_view::npos) {
      SLUICE_ASSIGN_OR_RETURN(low, ParseValue(expression, rule, field, range.substr(0, dash)));
      SLUICE_ASSIGN_OR_RETURN(high, ParseValue(expression, rule, field, range.substr(dash + 1)));
      if (low > high)
        return FieldError(expression, rule, field, fmt::format("has the range {}-{} backwards", low, high));
    } else {
      SLUICE_ASSIGN_OR_RETURN(low, ParseValue(expression, rule, field, range));
      // "5/15" means from 5 to the end in steps of 15.
      high = part.find('/') != std::string::npos ? rule.max : low;
    }
    for (int v = low; v <= high; v += step) bits->set(static_cast<size_t>(v));
  }
  return star;
}

std::string Shorthand(const std::string& text) {
  std::string lower = ToLower(Trim(text));
  if (lower == "@yearly" || lower == "@annually") return "0 0 1 1 *";
  if (lower == "@monthly") return "0 0 1 * *";
  if (lower == "@weekly") return "0 0 * * 0";
  if (lower == "@daily" || lower == "@midnight") return "0 0 * * *";
  if (lower == "@hourly") return "0 * * * *";
  return "";
}

constexpr int64_t kDay = 86400;
// No match within this many years of wall-clock time means none ever (covers leap-day schedules).
constexpr int kSearchYears = 9;

}  // namespace

Result<CronSchedule> CronSchedule::Parse(const std::string& expression) {
  CronSchedule cron;
  cron.expression_ = Trim(expression);
  std::string text = cron.expression_;
  if (StartsWith(text, "@")) {
    text = Shorthand(text);
    if (text.empty()) {
      return Status::Invalid(
          "cron expression '{}': unknown shorthand (use @yearly, @monthly, @weekly, @daily, @hourly or 5 fields)",
          expression);
    }
  }
  std::vector<std::string> fields;
  for (const auto& f : Split(text, ' ')) {
    std::string t = Trim(f);
    if (!t.empty()) fields.push_back(t);
  }
  if (fields.size() != 5 && fields.size() != 6) {
    return Status::Invalid(
        "cron expression '{}' has {} fields; expected 5 (minute hour day-of-month month day-of-week, e.g. "
        "\"*/15 * * * *\") or 6 (seconds first)",
        expression, fields.size());
  }
  for (const auto& f : fields) {
    bool suffix = f.size() >= 2 && (f.back() == 'L' || f.back() == 'W') &&
                  std::isdigit(static_cast<unsigned char>(f[f.size() - 2]));
    if (f.find('#') != std::string::npos || f == "L" || suffix) {
      return Status::Invalid("cron expression '{}': field '{}' uses L, W or #, which are not supported", expression, f);
    }
  }
  size_t i = 0;
  cron.has_seconds_ = fields.size() == 6;
  if (cron.has_seconds_) {
    SLUICE_TRY(ParseField(expression, kSecond, fields[i++], &cron.seconds_));
  } else {
    cron.seconds_.set(0);
  }
  SLUICE_TRY(ParseField(expression, kMinute, fields[i++], &cron.minutes_));
  SLUICE_TRY(ParseField(expression, kHour, fields[i++], &cron.hours_));
  SLUICE_ASSIGN_OR_RETURN(bool dom_star, ParseField(expression, kDayOfMonth, fields[i++], &cron.days_of_month_));
  SLUICE_TRY(ParseField(expression, kMonth, fields[i++], &cron.months_));
  std::bitset<8> dow;
  SLUICE_ASSIGN_OR_RETURN(bool dow_star, ParseField(expression, kDayOfWeek, fields[i++], &dow));
  for (size_t d = 0; d < 7; ++d) cron.days_of_week_[d] = dow[d];
  if (dow[7]) cron.days_of_week_.set(0);
  cron.dom_restricted_ = !dom_star;
  cron.dow_restricted_ = !dow_star;
  return cron;
}

bool CronSchedule::DayMatches(const CivilTime& day) const {
  bool dom = days_of_month_[static_cast<size_t>(day.day)];
  bool dow = days_of_week_[static_cast<size_t>(day.Weekday())];
  if (dom_restricted_ && dow_restricted_) return dom || dow;
  return dom && dow;
}

bool CronSchedule::Matches(const CivilTime& t) const {
  return months_[static_cast<size_t>(t.month)] && DayMatches(t) && hours_[static_cast<size_t>(t.hour)] &&
         minutes_[static_cast<size_t>(t.minute)] && seconds_[static_cast<size_t>(t.second)];
}

std::optional<int64_t> CronSchedule::NextMatchAtOrAfter(int64_t wall) const {
  const int64_t limit = wall + int64_t{kSearchYears} * 366 * kDay;
  while (wall <= limit) {
    CivilTime t = CivilTime::FromSeconds(wall);
    if (!months_[static_cast<size_t>(t.month)]) {
      CivilTime next{t.month == 12 ? t.year + 1 : t.year, t.month == 12 ? 1 : t.month + 1, 1, 0, 0, 0};
      wall = next.ToSeconds();
      continue;
    }
    const int64_t day_start = wall - (t.hour * 3600 + t.minute * 60 + t.second);
    if (!DayMatches(t)) {
      wall = day_start + kDay;
      continue;
    }
    const int64_t hour_start = day_start + t.hour * 3600;
    if (!hours_[static_cast<size_t>(t.hour)]) {
      wall = hour_start + 3600;
      continue;
    }
    const int64_t minute_start = hour_start + t.minute * 60;
    if (!minutes_[static_cast<size_t>(t.minute)]) {
      wall = minute_start + 60;
      continue;
    }
    if (!seconds_[static_cast<size_t>(t.second)]) {
      wall += 1;
      continue;
    }
    return wall;
  }
  return std::nullopt;
}

std::optional<TimePoint> CronSchedule::NextFireAfter(TimePoint after, const TimeZone& zone) const {
  // Walk matching wall-clock times from the wall-clock reading of `after`; the first whose instant
  // lies after `after` is the answer. Instants grow with wall-clock time (a skipped time maps to the
  // end of its gap, a repeated one to its first occurrence), so nothing later can be earlier.
  int64_t wall = zone.ToLocal(after).ToSeconds();
  for (int guard = 0; guard < 200000; ++guard) {
    auto match = NextMatchAtOrAfter(wall);
    if (!match) return std::nullopt;
    TimePoint instant = zone.FromLocal(CivilTime::FromSeconds(*match)).instant;
    if (instant > after) return instant;
    wall = *match + 1;
  }
  return std::nullopt;
}

}  // namespace sluice::scheduler::triggers
