#include "scheduler/triggers/on_commit/on_commit_trigger.hpp"

#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>

#include "catalog/types.hpp"
#include "common/strings.hpp"
#include "scheduler/triggers/parse_util.hpp"

namespace sluice::scheduler::triggers {

std::string OnCommitConfig::Describe() const {
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(min_interval).count();
  return fmt::format("on_commit of {}{}", Join(tables, ", "),
                     seconds > 0 ? fmt::format(" (at most one run per {}s)", seconds) : "");
}

namespace {

class OnCommitTrigger final : public PolledTrigger {
 public:
  OnCommitTrigger(std::string pipeline, std::string key, std::shared_ptr<const OnCommitConfig> config,
                  TableVersionReader table_version)
      : pipeline_(std::move(pipeline)),
        key_(std::move(key)),
        config_(std::move(config)),
        table_version_(std::move(table_version)) {}

  Status Restore(const std::string& saved) {
    auto json = nlohmann::json::parse(saved, nullptr, false);
    bool readable = !json.is_discarded() && json.is_object() && json.contains("versions") &&
                    json["versions"].is_object() && json.contains("last_run_us") &&
                    json["last_run_us"].is_number_integer();
    if (readable) {
      for (const auto& [table, version] : json["versions"].items()) {
        if (!version.is_number_integer())
          readable = false;
        else
          handled_[table] = version.get<int64_t>();
      }
    }
    if (!readable) {
      return Status::DataError(
          "saved state of trigger {} of pipeline '{}' is not readable ({}); remove the saved state to start fresh "
          "(commits made before the restart will then not start a run)",
          key_, pipeline_, saved.substr(0, 80));
    }
    started_ = true;
    int64_t last_run_us = json["last_run_us"].get<int64_t>();
    if (last_run_us > 0) last_run_ = FromUnixMicros(last_run_us);
    return Status::OK();
  }

  std::string Key() const override { return key_; }

  Result<TriggerPoll> Poll(TimePoint now) override {
    TriggerPoll poll;
    std::map<std::string, int64_t> current;
    for (const auto& table : config_->tables) {
      SLUICE_ASSIGN_OR_RETURN(current[table], table_version_(table));
    }
    if (!started_) {
      started_ = true;  // first start: commits made before the trigger existed are not owed a run
      handled_ = current;
      poll.state = State();
      poll.state_changed = true;
      return poll;
    }
    std::vector<std::string> changes;
    for (const auto& [table, version] : current) {
      int64_t before = handled_.count(table) ? handled_[table] : 0;
      if (version != before) changes.push_back(fmt::format("{} version {} (was {})", table, version, before));
    }
    pending_ = !changes.empty();
    if (!pending_ || (last_run_ && now < *last_run_ + config_->min_interval)) {
      poll.state = State();
      return poll;
    }
    TriggerEvent event;
    event.pipeline = pipeline_;
    event.kind = "on_commit";
    std::vector<std::string> versions;
    for (const auto& [table, version] : current) versions.push_back(fmt::format("{}@{}", table, version));
    event.dedup_key = "on_commit:" + Join(versions, ",");
    event.detail = fmt::format("{}: new commits: {}", config_->Describe(), Join(changes, "; "));
    poll.events.push_back(std::move(event));
    handled_ = current;
    last_run_ = now;
    pending_ = false;
    poll.state = State();
    poll.state_changed = true;
    return poll;
  }

  std::optional<TimePoint> NextWake(TimePoint now) const override {
    if (pending_ && last_run_) return std::max(now, *last_run_ + config_->min_interval);
    return now + kOnCommitCheckEvery;
  }

 private:
  std::string State() const {
    nlohmann::json versions = nlohmann::json::object();
    for (const auto& [table, version] : handled_) versions[table] = version;
    return nlohmann::json{
        {"version", 1}, {"versions", versions}, {"last_run_us", last_run_ ? ToUnixMicros(*last_run_) : 0}}
        .dump();
  }

  std::string pipeline_, key_;
  std::shared_ptr<const OnCommitConfig> config_;
  TableVersionReader table_version_;
  bool started_ = false;
  bool pending_ = false;  // commits seen that wait for min_interval
  std::map<std::string, int64_t> handled_;
  std::optional<TimePoint> last_run_;
};

}  // namespace

Result<std::unique_ptr<PolledTrigger>> MakeOnCommitTrigger(std::string pipeline, std::string key,
                                                           std::shared_ptr<const OnCommitConfig> config,
                                                           TableVersionReader table_version,
                                                           const std::optional<std::string>& saved_state) {
  if (!table_version)
    return Status::Internal("trigger {} of pipeline '{}' has no way to read table versions", key, pipeline);
  auto trigger = std::make_unique<OnCommitTrigger>(std::move(pipeline), std::move(key), std::move(config),
                                                   std::move(table_version));
  if (saved_state && !saved_state->empty()) SLUICE_TRY(trigger->Restore(*saved_state));
  return std::unique_ptr<PolledTrigger>(std::move(trigger));
}

TriggerDescriptor OnCommitTriggerDescriptor() {
  using config::OptionType;
  TriggerDescriptor d;
  d.kind = "on_commit";
  d.summary = "run when a lake table gets a new committed version (a table another pipeline or a stream fills)";
  d.value_form = "a lake table (zone.table) or a list of them";
  d.options = {
      {"min_interval", OptionType::kDuration, "0s", false, false,
       "at most one run per this interval: commits arriving sooner wait and are covered by one run"},
  };
  d.parse = [](const config::Value& item, const TriggerParseContext&) -> Result<std::shared_ptr<const TriggerConfig>> {
    const config::Value& value = *item.Find("on_commit");
    auto tables = value.AsStringList();
    if (!tables.ok() || tables->empty()) {
      return InvalidAt(value, "must name a lake table, e.g. on_commit: raw.orders, or a list of them");
    }
    for (auto& table : *tables) {
      auto name = catalog::TableName::Parse(table);
      if (!name.ok()) return InvalidAt(value, name.status().message());
      table = name->ToString();
    }
    std::chrono::microseconds min_interval{0};
    if (const config::Value* interval = item.Find("min_interval"); interval != nullptr && !interval->IsNull()) {
      auto parsed = interval->AsDuration();
      if (!parsed.ok()) return InvalidAt(*interval, parsed.status().message());
      min_interval = *parsed;
    }
    return std::shared_ptr<const TriggerConfig>(std::make_shared<OnCommitConfig>(std::move(*tables), min_interval));
  };
  d.make_polled = [](const TriggerSpec& spec, const PolledTriggerContext& context,
                     std::optional<std::string> saved_state) -> Result<std::unique_ptr<PolledTrigger>> {
    auto config = std::dynamic_pointer_cast<const OnCommitConfig>(spec.config);
    if (config == nullptr) return Status::Internal("trigger {} has no on_commit config", spec.key);
    return MakeOnCommitTrigger(context.pipeline, spec.key, std::move(config), context.table_version, saved_state);
  };
  return d;
}

}  // namespace sluice::scheduler::triggers
