#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

#include "common/secret.hpp"

namespace sluice {

enum class LogFormat { kText, kJson };

struct LogOptions {
  LogFormat format = LogFormat::kText;
  spdlog::level::level_enum level = spdlog::level::info;
  /// Every line passes through it before it is written.
  std::shared_ptr<const Redactor> redactor;
};

/// Installs the process's default logger: human text or JSON lines on stderr, redacted.
/// Called once by main(); modules log with spdlog::info(...) and friends.
void SetupLogging(const LogOptions& options);

/// Also writes every log line (redacted, JSON lines) to `path` until the returned handle dies:
/// used to keep a run's log with its run record.
class LogCapture {
 public:
  static std::unique_ptr<LogCapture> ToFile(const std::string& path);
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

 private:
  explicit LogCapture(spdlog::sink_ptr sink) : sink_(std::move(sink)) {}
  spdlog::sink_ptr sink_;
};

}  // namespace sluice
