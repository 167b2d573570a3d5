#include "scheduler/triggers/file_arrival/file_arrival_trigger.hpp"

#include <fmt/format.h>
#include <fnmatch.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/hash.hpp"
#include "common/strings.hpp"
#include "config/option_reader.hpp"
#include "scheduler/triggers/parse_util.hpp"
#include "scheduler/triggers/schedule/schedule_trigger.hpp"

namespace sluice::scheduler::triggers {

namespace fs = std::filesystem;
using std::chrono::microseconds;

// ---------------------------------------------------------------------------------------------
// max_runs and its calendar periods

std::string MaxRuns::ToString() const {
  static constexpr const char* kNames[] = {"minute", "hour", "day", "week"};
  return fmt::format("{} per {}", count, kNames[static_cast<int>(period)]);
}

Result<MaxRuns> ParseMaxRuns(std::string_view text) {
  auto fail = [&](std::string_view why) {
    return Status::Invalid("max_runs '{}' {}: write N per minute|hour|day|week, e.g. 1 per day", text, why);
  };
  std::string s = ToLower(Trim(text));
  size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  if (digits == 0 || digits > 9) return fail("does not start with a count");
  MaxRuns out;
  out.count = std::stoll(s.substr(0, digits));
  if (out.count < 1) return fail("must allow at least 1 run");
  std::string rest = Trim(s.substr(digits));
  if (StartsWith(rest, "per "))
    rest = Trim(rest.substr(4));
  else if (StartsWith(rest, "/"))
    rest = Trim(rest.substr(1));
  else
    return fail("has no 'per'");
  if (EndsWith(rest, "s")) rest.pop_back();
  static const std::vector<std::string> kPeriods = {"minute", "hour", "day", "week"};
  for (size_t i = 0; i < kPeriods.size(); ++i) {
    if (rest == kPeriods[i]) {
      out.period = static_cast<MaxRuns::Period>(i);
      return out;
    }
  }
  std::string nearest = NearestWord(rest, kPeriods);
  return fail(fmt::format("names the period '{}'{}", rest,
                          nearest.empty() ? "" : fmt::format(" (did you mean '{}'?)", nearest)));
}

namespace {

/// The local start of the period holding wall-clock time `c`.
CivilTime PeriodStart(MaxRuns::Period period, CivilTime c) {
  c.second = 0;
  if (period == MaxRuns::Period::kMinute) return c;
  c.minute = 0;
  if (period == MaxRuns::Period::kHour) return c;
  c.hour = 0;
  if (period == MaxRuns::Period::kDay) return c;
  int back = (c.Weekday() + 6) % 7;  // days since Monday
  return CivilTime::FromSeconds(c.ToSeconds() - int64_t{back} * 86400);
}

}  // namespace

std::string PeriodId(MaxRuns::Period period, TimePoint t, const TimeZone& zone) {
  CivilTime s = PeriodStart(period, zone.ToLocal(t));
  switch (period) {
    case MaxRuns::Period::kMinute:
      return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}", s.year, s.month, s.day, s.hour, s.minute);
    case MaxRuns::Period::kHour: return fmt::format("{:04}-{:02}-{:02}T{:02}", s.year, s.month, s.day, s.hour);
    case MaxRuns::Period::kDay: return fmt::format("{:04}-{:02}-{:02}", s.year, s.month, s.day);
    case MaxRuns::Period::kWeek: return fmt::format("week of {:04}-{:02}-{:02}", s.year, s.month, s.day);
  }
  return "";
}

TimePoint NextPeriodStart(MaxRuns::Period period, TimePoint t, const TimeZone& zone) {
  CivilTime start = PeriodStart(period, zone.ToLocal(t));
  int64_t seconds = start.ToSeconds();
  switch (period) {
    case MaxRuns::Period::kMinute: seconds += 60; break;
    case MaxRuns::Period::kHour: seconds += 3600; break;
    case MaxRuns::Period::kDay: seconds += 86400; break;
    case MaxRuns::Period::kWeek: seconds += 7 * 86400; break;
  }
  // A local hour can be skipped or repeated; the start is the first instant of that wall-clock time.
  TimePoint next = zone.FromLocal(CivilTime::FromSeconds(seconds)).instant;
  return next > t ? next : t + std::chrono::seconds(1);
}

// ---------------------------------------------------------------------------------------------

bool MatchesFileGlob(const std::string& pattern, const std::string& relative) {
  const int flags = pattern.find("**") != std::string::npos ? 0 : FNM_PATHNAME;
  if (fnmatch(pattern.c_str(), relative.c_str(), flags) == 0) return true;
  for (std::string_view suffix : {".gz", ".zip"}) {
    if (EndsWith(ToLower(relative), suffix)) {
      std::string plain = relative.substr(0, relative.size() - suffix.size());
      if (fnmatch(pattern.c_str(), plain.c_str(), flags) == 0) return true;
    }
  }
  return false;
}

std::string FileArrivalConfig::Describe() const {
  std::string what =
      require.empty() ? fmt::format("any file matching {}", pattern) : fmt::format("all of {}", Join(require, ", "));
  return fmt::format(
      "file_arrival in {}: {} (settle {}s{}{})", path, what,
      std::chrono::duration_cast<std::chrono::seconds>(settle).count(),
      max_runs ? ", at most " + max_runs->ToString() : std::string(),
      timeout ? fmt::format(", timeout {}s", std::chrono::duration_cast<std::chrono::seconds>(*timeout).count())
              : std::string());
}

namespace {

/// inotify on a folder and its sub-folders: readable when something may have arrived.
class FolderWatch {
 public:
  static std::unique_ptr<FolderWatch> Make(const fs::path& root, bool recursive) {
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return nullptr;  // no inotify (limits reached): listing on every poll still finds everything
    auto watch = std::unique_ptr<FolderWatch>(new FolderWatch(fd, root, recursive));
    watch->Refresh();
    return watch;
  }
  ~FolderWatch() { ::close(fd_); }
  FolderWatch(const FolderWatch&) = delete;
  FolderWatch& operator=(const FolderWatch&) = delete;

  int fd() const { return fd_; }

  /// Consumes pending events and watches folders created since.
  void Refresh() {
    char buffer[16384];
    while (::read(fd_, buffer, sizeof(buffer)) > 0) {
    }
    Add(root_);
    if (!recursive_) return;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root_, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec)) Add(it->path());
    }
  }

 private:
  FolderWatch(int fd, fs::path root, bool recursive) : fd_(fd), root_(std::move(root)), recursive_(recursive) {}
  void Add(const fs::path& folder) {
    if (watched_.count(folder.string()) != 0) return;
    int wd = inotify_add_watch(fd_, folder.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE);
    if (wd >= 0) watched_.insert(folder.string());
  }

  int fd_;
  fs::path root_;
  bool recursive_;
  std::set<std::string> watched_;
};

struct FileIdentity {
  uint64_t size = 0;
  std::string stamp;  // local: size-mtime(ns); S3: ETag
  bool operator==(const FileIdentity&) const = default;
};

/// A file that already started a run. Remembered while it is listed and for kUsedRetention after
/// it disappears, so a folder that is briefly empty (an unmounted share) does not fire everything again.
struct UsedFile {
  FileIdentity identity;
  std::optional<int64_t> gone_since_us;
};

constexpr microseconds kUsedRetention = std::chrono::hours(24 * 7);
constexpr size_t kFilesNamedInDetail = 20;

struct SeenFile {
  FileIdentity identity;
  int64_t since_us = 0;  // when this identity was first observed (the injected clock)
};

class FileArrivalTrigger final : public PolledTrigger {
 public:
  FileArrivalTrigger(std::string pipeline, std::string key, std::shared_ptr<const FileArrivalConfig> config,
                     ListFolder list_folder, std::unique_ptr<FolderWatch> watch)
      : pipeline_(std::move(pipeline)),
        key_(std::move(key)),
        config_(std::move(config)),
        list_folder_(std::move(list_folder)),
        watch_(std::move(watch)) {}

  Status LoadState(const std::string& text) {
    auto fail = [&](std::string_view why) {
      return Status::DataError(
          "saved state of trigger {} of pipeline '{}' is not readable ({}): remove it to start fresh (files now in "
          "{} would then trigger again)",
          key_, pipeline_, why, config_->path);
    };
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded() || !json.is_object()) return fail("not a JSON object");
    try {
      for (const auto& f : json.value("seen", nlohmann::json::array())) {
        seen_[f.at("name").get<std::string>()] = {{f.at("size").get<uint64_t>(), f.at("stamp").get<std::string>()},
                                                  f.at("since_us").get<int64_t>()};
      }
      for (const auto& f : json.value("used", nlohmann::json::array())) {
        UsedFile used{{f.at("size").get<uint64_t>(), f.at("stamp").get<std::string>()}, std::nullopt};
        if (f.contains("gone_since_us")) used.gone_since_us = f["gone_since_us"].get<int64_t>();
        used_[f.at("name").get<std::string>()] = used;
      }
      period_ = json.value("period", "");
      runs_in_period_ = json.value("runs_in_period", int64_t{0});
      if (json.contains("timeout_reported_since_us")) {
        timeout_reported_since_us_ = json["timeout_reported_since_us"].get<int64_t>();
      }
    } catch (const nlohmann::json::exception& e) {
      return fail(e.what());
    }
    last_state_ = State();
    return Status::OK();
  }

  std::string Key() const override { return key_; }
  int WakeFd() const override { return watch_ ? watch_->fd() : -1; }

  Result<TriggerPoll> Poll(TimePoint now) override {
    if (watch_) watch_->Refresh();
    auto listing = list_folder_();
    if (!listing.ok()) {
      return Status(listing.status().code(),
                    fmt::format("file_arrival trigger {} of pipeline '{}' cannot list {}: {}", key_, pipeline_,
                                config_->path, listing.status().message()),
                    listing.status().retryable());
    }
    const int64_t now_us = ToUnixMicros(now);
    Observe(*listing, now_us);

    TriggerPoll poll;
    std::vector<std::string> settled;
    for (const auto& [name, file] : seen_) {
      if (now_us - file.since_us >= config_->settle.count()) settled.push_back(name);
    }
    std::vector<std::string> missing;  // require patterns without a settled file
    for (const auto& pattern : config_->require) {
      bool any = std::any_of(settled.begin(), settled.end(),
                             [&](const std::string& name) { return MatchesFileGlob(pattern, name); });
      if (!any) missing.push_back(pattern);
    }
    const bool complete = !settled.empty() && missing.empty();

    // period_/runs_in_period_ change only with a run, so a quiet trigger's state stays the same.
    std::string period = config_->max_runs ? PeriodId(config_->max_runs->period, now, *config_->zone) : "";
    const int64_t runs_so_far = period == period_ ? runs_in_period_ : 0;
    blocked_ = complete && config_->max_runs && runs_so_far >= config_->max_runs->count;
    if (complete && !blocked_) {
      poll.events.push_back(Consume(settled));
      if (config_->max_runs) {
        period_ = period;
        runs_in_period_ = runs_so_far + 1;
      }
    } else if (!complete) {
      CheckTimeout(now_us, missing, &poll);
    }
    poll.state = State();
    poll.state_changed = poll.state != last_state_;
    last_state_ = poll.state;
    return poll;
  }

  std::optional<TimePoint> NextWake(TimePoint now) const override {
    // Deadlines already passed were handled by the last Poll; only future ones can change anything.
    TimePoint wake = now + config_->poll;
    auto consider = [&](TimePoint deadline) {
      if (deadline > now) wake = std::min(wake, deadline);
    };
    for (const auto& [name, file] : seen_) consider(FromUnixMicros(file.since_us) + config_->settle);
    if (config_->timeout && !seen_.empty()) {
      int64_t since = PartialSince();
      if (!timeout_reported_since_us_ || *timeout_reported_since_us_ != since) {
        consider(FromUnixMicros(since) + *config_->timeout + microseconds(1));
      }
    }
    if (blocked_) consider(NextPeriodStart(config_->max_runs->period, now, *config_->zone));
    return wake;
  }

 private:
  /// Brings seen_/used_ up to date with a listing: new or changed files (re)start their settle
  /// time; files that are gone are forgotten (used ones after kUsedRetention, so the state stays
  /// bounded).
  void Observe(const std::vector<ListedFile>& listing, int64_t now_us) {
    std::map<std::string, SeenFile> seen;
    std::map<std::string, UsedFile> used;
    std::set<std::string> listed;
    for (const auto& object : listing) {
      if (!Relevant(object.key)) continue;
      listed.insert(object.key);
      FileIdentity identity{object.size, object.stamp};
      if (auto u = used_.find(object.key); u != used_.end() && u->second.identity == identity) {
        used.emplace(object.key, UsedFile{identity, std::nullopt});
        continue;
      }
      auto s = seen_.find(object.key);
      if (s != seen_.end() && s->second.identity == identity) {
        seen.emplace(object.key, s->second);
      } else {
        seen.emplace(object.key, SeenFile{identity, now_us});
      }
    }
    for (const auto& [name, file] : used_) {
      if (listed.count(name) != 0) continue;  // listed with another identity: a new file now
      int64_t gone_since = file.gone_since_us.value_or(now_us);
      if (now_us - gone_since <= kUsedRetention.count()) used.emplace(name, UsedFile{file.identity, gone_since});
    }
    seen_ = std::move(seen);
    used_ = std::move(used);
  }

  bool Relevant(const std::string& key) const {
    // Hidden files and folders: editors' and uploaders' temp files.
    for (const auto& segment : Split(key, '/')) {
      if (StartsWith(segment, ".")) return false;
    }
    if (config_->require.empty()) return MatchesFileGlob(config_->pattern, key);
    return std::any_of(config_->require.begin(), config_->require.end(),
                       [&](const std::string& p) { return MatchesFileGlob(p, key); });
  }

  TriggerEvent Consume(const std::vector<std::string>& names) {
    std::vector<std::string> identities;
    std::vector<std::string> described;
    for (const auto& name : names) {
      const SeenFile& file = seen_.at(name);
      identities.push_back(fmt::format("{}\n{}\n{}", name, file.identity.size, file.identity.stamp));
      if (described.size() < kFilesNamedInDetail) {
        described.push_back(fmt::format("{} ({})", name, HumanBytes(file.identity.size)));
      }
      used_[name] = UsedFile{file.identity, std::nullopt};
      seen_.erase(name);
    }
    TriggerEvent event;
    event.pipeline = pipeline_;
    event.kind = "file_arrival";
    event.dedup_key = "file_arrival:" + Sha256Hex(Join(identities, "\n")).substr(0, 32);
    event.detail = fmt::format(
        "{} file{} arrived in {}: {}{}", names.size(), names.size() == 1 ? "" : "s", config_->path,
        Join(described, ", "),
        names.size() > described.size() ? fmt::format(" and {} more", names.size() - described.size()) : std::string());
    timeout_reported_since_us_.reset();
    return event;
  }

  /// When the earliest file of the waiting (partial) set was first seen.
  int64_t PartialSince() const {
    int64_t since = std::numeric_limits<int64_t>::max();
    for (const auto& [name, file] : seen_) since = std::min(since, file.since_us);
    return since;
  }

  void CheckTimeout(int64_t now_us, const std::vector<std::string>& missing, TriggerPoll* poll) {
    if (!config_->timeout || config_->require.empty() || seen_.empty()) return;
    const int64_t since = PartialSince();
    if (now_us - since <= config_->timeout->count()) return;
    if (timeout_reported_since_us_ && *timeout_reported_since_us_ == since) return;
    timeout_reported_since_us_ = since;
    std::vector<std::string> present;
    for (const auto& [name, file] : seen_) present.push_back(name);
    TriggerAlert alert;
    alert.pipeline = pipeline_;
    alert.kind = "file_arrival_timeout";
    alert.dedup_key = fmt::format("file_arrival_timeout:{}:{}", key_, FormatInstant(FromUnixMicros(since)));
    alert.detail = fmt::format(
        "pipeline '{}' has waited since {} for a complete set of files in {}: still missing {} (present: {}); "
        "drop the missing files into {} or remove the partial ones",
        pipeline_, FormatInstant(FromUnixMicros(since)), config_->path,
        Join(missing.empty() ? config_->require : missing, ", "), Join(present, ", "), config_->path);
    poll->alerts.push_back(std::move(alert));
  }

  std::string State() const {
    nlohmann::json seen = nlohmann::json::array();
    for (const auto& [name, file] : seen_) {
      seen.push_back(
          {{"name", name}, {"size", file.identity.size}, {"stamp", file.identity.stamp}, {"since_us", file.since_us}});
    }
    nlohmann::json used = nlohmann::json::array();
    for (const auto& [name, file] : used_) {
      nlohmann::json entry = {{"name", name}, {"size", file.identity.size}, {"stamp", file.identity.stamp}};
      if (file.gone_since_us) entry["gone_since_us"] = *file.gone_since_us;
      used.push_back(std::move(entry));
    }
    nlohmann::json state = {{"version", 1}, {"seen", seen}, {"used", used}};
    if (!period_.empty()) {
      state["period"] = period_;
      state["runs_in_period"] = runs_in_period_;
    }
    if (timeout_reported_since_us_) state["timeout_reported_since_us"] = *timeout_reported_since_us_;
    return state.dump();
  }

  std::string pipeline_, key_;
  std::shared_ptr<const FileArrivalConfig> config_;
  ListFolder list_folder_;
  std::unique_ptr<FolderWatch> watch_;

  std::map<std::string, SeenFile> seen_;  // not yet used, by path below the folder
  std::map<std::string, UsedFile> used_;  // already triggered a run
  std::string period_;
  int64_t runs_in_period_ = 0;
  std::optional<int64_t> timeout_reported_since_us_;
  bool blocked_ = false;  // a complete set waits for the next max_runs period
  std::string last_state_;
};

const std::vector<config::OptionSpec>& FileArrivalOptionSpecs() {
  using config::OptionType;
  static const std::vector<config::OptionSpec> kSpecs = {
      {"path", OptionType::kString, "", true, false, "folder to watch (relative to the project) or s3://bucket/prefix"},
      {"require", OptionType::kStringList, "", false, false,
       "glob per file of a complete set, e.g. [orders*.csv, reviews*.csv]: a run starts when each has a new file"},
      {"pattern", OptionType::kString, "*", false, false,
       "without require: which files count ('*' = files directly in the folder, '**' = also in sub-folders)"},
      {"settle", OptionType::kDuration, "30s", false, false,
       "a file counts once its size and modification time (S3: ETag) stayed the same this long"},
      {"max_runs", OptionType::kString, "", false, false,
       "at most N runs per minute|hour|day|week (calendar periods in timezone), e.g. 1 per day; later sets wait"},
      {"timeout", OptionType::kDuration, "", false, false,
       "report (once) a partial set whose first file has waited longer than this, e.g. 6h"},
      {"poll", OptionType::kDuration, "30s", false, false,
       "how often the folder or prefix is listed (local folders are also watched with inotify)"},
      {"timezone", OptionType::kString, "UTC", false, false, "IANA time zone of the max_runs periods"},
  };
  return kSpecs;
}

Result<std::shared_ptr<const TriggerConfig>> ParseFileArrival(const config::Value& item) {
  const config::Value& map = *item.Find("file_arrival");
  auto config = std::make_shared<FileArrivalConfig>();
  SLUICE_ASSIGN_OR_RETURN(config->path, map.Find("path")->AsString());
  if (Trim(config->path).empty()) return InvalidAt(*map.Find("path"), "must name a folder or an s3:// prefix");
  if (const config::Value* require = map.Find("require"); require != nullptr && !require->IsNull()) {
    SLUICE_ASSIGN_OR_RETURN(config->require, require->AsStringList());
    if (config->require.empty()) return InvalidAt(*require, "must list at least one file pattern");
    if (map.Find("pattern") != nullptr) {
      return InvalidAt(*map.Find("pattern"),
                       "pattern and require exclude each other: require lists the patterns of a complete set");
    }
  }
  config::OptionReader options(map, FileArrivalOptionSpecs());
  SLUICE_ASSIGN_OR_RETURN(config->pattern, options.String("pattern"));
  SLUICE_ASSIGN_OR_RETURN(config->settle, options.Duration("settle"));
  SLUICE_ASSIGN_OR_RETURN(config->poll, options.Duration("poll"));
  if (config->poll < std::chrono::seconds(1)) return InvalidAt(*map.Find("poll"), "must be at least 1s");
  if (const config::Value* timeout = map.Find("timeout"); timeout != nullptr && !timeout->IsNull()) {
    SLUICE_ASSIGN_OR_RETURN(config->timeout, timeout->AsDuration());
    if (config->require.empty()) {
      return InvalidAt(*timeout, "timeout applies to a set of files: add require: [...] or remove timeout");
    }
  }
  if (const config::Value* max_runs = map.Find("max_runs"); max_runs != nullptr && !max_runs->IsNull()) {
    SLUICE_ASSIGN_OR_RETURN(std::string text, max_runs->AsString());
    auto parsed = ParseMaxRuns(text);
    if (!parsed.ok()) return InvalidAt(*max_runs, parsed.status().message());
    config->max_runs = *parsed;
  }
  SLUICE_ASSIGN_OR_RETURN(config->zone, ParseTimeZoneKey(map));
  return std::shared_ptr<const TriggerConfig>(std::move(config));
}

}  // namespace

Result<std::unique_ptr<PolledTrigger>> MakeFileArrivalTrigger(std::string pipeline, std::string key,
                                                              std::shared_ptr<const FileArrivalConfig> config,
                                                              ListFolder list_folder,
                                                              std::optional<fs::path> watch_folder,
                                                              const std::optional<std::string>& saved_state) {
  std::unique_ptr<FolderWatch> watch;
  if (watch_folder) {
    bool recursive = config->pattern.find('/') != std::string::npos || config->pattern.find("**") != std::string::npos;
    for (const auto& p : config->require) recursive = recursive || p.find('/') != std::string::npos;
    watch = FolderWatch::Make(*watch_folder, recursive);
  }
  auto trigger = std::make_unique<FileArrivalTrigger>(std::move(pipeline), std::move(key), std::move(config),
                                                      std::move(list_folder), std::move(watch));
  if (saved_state && !saved_state->empty()) SLUICE_TRY(trigger->LoadState(*saved_state));
  return std::unique_ptr<PolledTrigger>(std::move(trigger));
}

TriggerDescriptor FileArrivalTriggerDescriptor() {
  TriggerDescriptor d;
  d.kind = "file_arrival";
  d.summary = "run when files arrive in a local folder (inotify + listing) or under an s3:// prefix (polling)";
  d.value_form = "a map: {path: incoming/, require: [...], settle: 30s, max_runs: 1 per day, ...}";
  d.options_inside = true;
  d.options = FileArrivalOptionSpecs();

  d.parse = [](const config::Value& item, const TriggerParseContext&) { return ParseFileArrival(item); };
  d.make_polled = [](const TriggerSpec& spec, const PolledTriggerContext& context,
                     std::optional<std::string> saved_state) -> Result<std::unique_ptr<PolledTrigger>> {
    auto config = std::dynamic_pointer_cast<const FileArrivalConfig>(spec.config);
    if (config == nullptr) return Status::Internal("trigger {} has no file_arrival config", spec.key);
    const std::string where = fmt::format("file_arrival trigger {} of pipeline '{}'", spec.key, context.pipeline);
    if (!context.open_folder) return Status::Internal("{}: no folder lister was supplied", where);
    if (StartsWith(ToLower(config->path), "s3://")) {
      auto list = context.open_folder(config->path);
      if (!list.ok()) return list.status().WithContext("{}", where);
      return MakeFileArrivalTrigger(context.pipeline, spec.key, config, std::move(*list), std::nullopt, saved_state);
    }
    fs::path folder = config->path;
    if (folder.is_relative()) folder = context.project_root / folder;
    folder = folder.lexically_normal();
    auto list = context.open_folder(folder.string());
    if (!list.ok()) return list.status().WithContext("{} (folder {})", where, folder.string());
    return MakeFileArrivalTrigger(context.pipeline, spec.key, config, std::move(*list), folder, saved_state);
  };
  return d;
}

}  // namespace sluice::scheduler::triggers
