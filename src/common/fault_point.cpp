#include "common/fault_point.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "common/strings.hpp"

namespace sluice::fault {
namespace {

enum class Action { kKill, kError, kPause, kPauseEach, kThrow };

struct PointRule {
  Action action = Action::kKill;
  int on_hit = 0;  // 0: every hit
  int hits = 0;
};

/// A paused process gives up after this long, so a test that forgot to release it cannot
/// leave it behind for ever.
constexpr auto kPauseDeadline = std::chrono::minutes(10);

struct State {
  std::mutex mutex;
  bool parsed = false;
  std::map<std::string, PointRule, std::less<>> rules;
  std::string dir;
};

State& GlobalState() {
  static State state;
  return state;
}

// -1: not read yet, 0: off, 1: on.
std::atomic<int> g_enabled{-1};

Result<std::map<std::string, PointRule, std::less<>>> Parse(std::string_view spec) {
  std::map<std::string, PointRule, std::less<>> rules;
  for (const auto& raw : Split(std::string(spec), ',')) {
    std::string item = Trim(raw);
    if (item.empty()) continue;
    size_t colon = item.rfind(':');
    if (colon == std::string::npos) {
      return Status::Invalid(
          "SLUICE_FAULTPOINT entry '{}' has no action; write name:kill, name:error, name:pause or name:throw", item);
    }
    std::string name = item.substr(0, colon), action = item.substr(colon + 1);
    PointRule rule;
    if (action == "kill") {
      rule.action = Action::kKill;
    } else if (action == "error") {
      rule.action = Action::kError;
    } else if (action == "pause") {
      rule.action = Action::kPause;
    } else if (action == "pause_each") {
      rule.action = Action::kPauseEach;
    } else if (action == "throw") {
      rule.action = Action::kThrow;
    } else {
      return Status::Invalid(
          "SLUICE_FAULTPOINT entry '{}': unknown action '{}'; use kill, error, pause, pause_each or throw", item,
          action);
    }
    if (size_t at = name.find('@'); at != std::string::npos) {
      std::string count = name.substr(at + 1);
      name.resize(at);
      char* end = nullptr;
      long n = std::strtol(count.c_str(), &end, 10);
      if (count.empty() || *end != '\0' || n <= 0) {
        return Status::Invalid("SLUICE_FAULTPOINT entry '{}': the hit count after @ must be a positive number", item);
      }
      rule.on_hit = static_cast<int>(n);
    }
    if (name.empty()) return Status::Invalid("SLUICE_FAULTPOINT entry '{}' has no point name", item);
    rules[name] = rule;
  }
  return rules;
}

void LoadLocked(State& state) {
  if (state.parsed) return;
  state.parsed = true;
  const char* spec = std::getenv("SLUICE_FAULTPOINT");
  const char* dir = std::getenv("SLUICE_FAULTPOINT_DIR");
  state.dir = dir != nullptr ? dir : "";
  if (spec != nullptr) {
    auto rules = Parse(spec);
    // A malformed spec must not silently test nothing: the process stops with the reason.
    if (!rules.ok()) {
      fmt::print(stderr, "error: {}\n", rules.status().message());
      std::_Exit(2);
    }
    state.rules = std::move(*rules);
  }
}

void Touch(const std::filesystem::path& path) {
  std::ofstream out(path, std::ios::trunc);
  out << ::getpid() << "\n";
}

}  // namespace

namespace internal {

bool Enabled() {
  int enabled = g_enabled.load(std::memory_order_relaxed);
  if (enabled >= 0) return enabled == 1;
  const char* spec = std::getenv("SLUICE_FAULTPOINT");
  enabled = spec != nullptr && *spec != '\0' ? 1 : 0;
  g_enabled.store(enabled, std::memory_order_relaxed);
  return enabled == 1;
}

Status HitSlow(std::string_view name) {
  State& state = GlobalState();
  Action action;
  int hit = 0;
  {
    std::lock_guard lock(state.mutex);
    LoadLocked(state);
    auto it = state.rules.find(name);
    if (it == state.rules.end()) return Status::OK();
    hit = ++it->second.hits;
    if (it->second.on_hit != 0 && hit != it->second.on_hit) return Status::OK();
    action = it->second.action;
  }
  switch (action) {
    case Action::kKill: ::kill(::getpid(), SIGKILL); std::_Exit(137);  // not reached
    case Action::kError: return Status::IoError("fault point '{}' injected an error (SLUICE_FAULTPOINT)", name);
    case Action::kThrow: throw std::runtime_error(fmt::format("fault point '{}' threw (SLUICE_FAULTPOINT)", name));
    case Action::kPause:
    case Action::kPauseEach: {
      if (state.dir.empty()) {
        return Status::Invalid("fault point '{}' is set to pause but SLUICE_FAULTPOINT_DIR is not set", name);
      }
      std::filesystem::path dir(state.dir);
      // pause_each: every hit has its own markers, so a test can hold each attempt of a loop in turn.
      std::string point = action == Action::kPauseEach ? fmt::format("{}.{}", name, hit) : std::string(name);
      std::filesystem::path release = dir / (point + ".release");
      Touch(dir / (point + ".reached"));
      auto deadline = std::chrono::steady_clock::now() + kPauseDeadline;
      while (!std::filesystem::exists(release)) {
        if (std::chrono::steady_clock::now() > deadline) {
          return Status::Timeout("fault point '{}' was never released ({} missing)", name, release.string());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      return Status::OK();
    }
  }
  return Status::OK();
}

}  // namespace internal

Status Validate(std::string_view spec) { return Parse(spec).status(); }

void ResetForTesting() {
  State& state = GlobalState();
  std::lock_guard lock(state.mutex);
  state.parsed = false;
  state.rules.clear();
  state.dir.clear();
  g_enabled.store(-1, std::memory_order_relaxed);
}

}  // namespace sluice::fault
