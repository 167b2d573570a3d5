#include "common/logging.hpp"

#include <fmt/chrono.h>
#include <spdlog/sinks/base_sink.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/clock.hpp"

namespace sluice {
namespace {

std::shared_ptr<const Redactor>& ActiveRedactor() {
  static std::shared_ptr<const Redactor> redactor = std::make_shared<Redactor>();
  return redactor;
}

std::string RenderLine(const spdlog::details::log_msg& msg, LogFormat format) {
  std::string text(msg.payload.data(), msg.payload.size());
  text = ActiveRedactor()->Apply(text);
  auto level = spdlog::level::to_string_view(msg.level);
  if (format == LogFormat::kJson) {
    nlohmann::json line = {
        {"ts", FormatTimestampUtc(msg.time)}, {"level", std::string(level.data(), level.size())}, {"msg", text}};
    if (msg.logger_name.size() > 0) {
      line["logger"] = std::string(msg.logger_name.data(), msg.logger_name.size());
    }
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  auto secs = std::chrono::floor<std::chrono::seconds>(msg.time);
  return fmt::format("{:%H:%M:%S} {:<5} {}\n", secs, std::string_view(level.data(), level.size()), text);
}

/// Writes redacted lines to a FILE*; owns it unless it is stderr.
class RedactingSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  RedactingSink(FILE* out, LogFormat format, bool owns) : out_(out), format_(format), owns_(owns) {}
  ~RedactingSink() override {
    if (owns_ && out_ != nullptr) std::fclose(out_);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string line = RenderLine(msg, format_);
    std::fwrite(line.data(), 1, line.size(), out_);
  }
  void flush_() override { std::fflush(out_); }

 private:
  FILE* out_;
  LogFormat format_;
  bool owns_;
};

thread_local uint64_t t_capture = 0;

/// The one sink that writes captured lines: each line goes to the file of the capture its thread
/// carries. Installed once, so the logger's sink list never changes while other threads log.
class CaptureRouterSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  uint64_t Open(FILE* file) {
    std::lock_guard lock(files_mutex_);
    files_[++last_id_] = file;
    return last_id_;
  }
  void Close(uint64_t id) {
    std::lock_guard lock(files_mutex_);
    auto it = files_.find(id);
    if (it == files_.end()) return;
    std::fclose(it->second);
    files_.erase(it);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (t_capture == 0) return;
    std::lock_guard lock(files_mutex_);
    auto it = files_.find(t_capture);
    if (it == files_.end()) return;
    std::string line = RenderLine(msg, LogFormat::kJson);
    std::fwrite(line.data(), 1, line.size(), it->second);
    std::fflush(it->second);
  }
  void flush_() override {}

 private:
  std::mutex files_mutex_;
  std::map<uint64_t, FILE*> files_;
  uint64_t last_id_ = 0;
};

std::shared_ptr<CaptureRouterSink> CaptureRouter() {
  static auto router = [] {
    auto sink = std::make_shared<CaptureRouterSink>();
    sink->set_level(spdlog::level::debug);
    return sink;
  }();
  return router;
}

/// Adds the router to the default logger unless it is there already (SetupLogging adds it; tests
/// that never call SetupLogging get it on their first capture).
void AttachCaptureRouter(spdlog::logger& logger) {
  auto& sinks = logger.sinks();
  if (std::find(sinks.begin(), sinks.end(), CaptureRouter()) == sinks.end()) sinks.push_back(CaptureRouter());
}

}  // namespace

void SetupLogging(const LogOptions& options) {
  if (options.redactor) ActiveRedactor() = options.redactor;
  auto sink = std::make_shared<RedactingSink>(stderr, options.format, false);
  auto logger = std::make_shared<spdlog::logger>("", sink);
  logger->set_level(options.level);
  logger->flush_on(spdlog::level::info);
  AttachCaptureRouter(*logger);
  spdlog::set_default_logger(logger);
}

std::unique_ptr<LogCapture> LogCapture::ToFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "a");
  if (f == nullptr) return nullptr;
  static std::once_flag attached;
  std::call_once(attached, [] { AttachCaptureRouter(*spdlog::default_logger()); });
  uint64_t id = CaptureRouter()->Open(f);
  uint64_t previous = t_capture;
  t_capture = id;
  return std::unique_ptr<LogCapture>(new LogCapture(id, previous));
}

LogCapture::~LogCapture() {
  t_capture = previous_;
  CaptureRouter()->Close(id_);
}

uint64_t LogCapture::Current() { return t_capture; }

LogCaptureScope::LogCaptureScope(uint64_t id) : previous_(t_capture) { t_capture = id; }

LogCaptureScope::~LogCaptureScope() { t_capture = previous_; }

}  // namespace sluice
