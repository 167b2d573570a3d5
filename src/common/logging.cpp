#include "common/logging.hpp"

#include <fmt/chrono.h>
#include <spdlog/sinks/base_sink.h>

#include <cstdio>
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
    nlohmann::json line = {{"ts", FormatTimestampUtc(msg.time)},
                           {"level", std::string(level.data(), level.size())},
                           {"msg", text}};
    if (msg.logger_name.size() > 0) {
      line["logger"] = std::string(msg.logger_name.data(), msg.logger_name.size());
    }
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  auto secs = std::chrono::floor<std::chrono::seconds>(msg.time);
  return fmt::format("{:%H:%M:%S} {:<5} {}\n", secs, std::string_view(level.data(), level.size()),
                     text);
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

}  // namespace

void SetupLogging(const LogOptions& options) {
  if (options.redactor) ActiveRedactor() = options.redactor;
  auto sink = std::make_shared<RedactingSink>(stderr, options.format, false);
  auto logger = std::make_shared<spdlog::logger>("", sink);
  logger->set_level(options.level);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

std::unique_ptr<LogCapture> LogCapture::ToFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "a");
  if (f == nullptr) return nullptr;
  auto sink = std::make_shared<RedactingSink>(f, LogFormat::kJson, true);
  sink->set_level(spdlog::level::debug);
  spdlog::default_logger()->sinks().push_back(sink);
  return std::unique_ptr<LogCapture>(new LogCapture(sink));
}

LogCapture::~LogCapture() {
  auto& sinks = spdlog::default_logger()->sinks();
  sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
}

}  // namespace sluice
