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

/// Also writes the log lines of one run (redacted, JSON lines) to `path` until the returned handle
/// dies: used to keep a run's log with its run record. Only lines logged on threads that carry this
/// capture go to the file — the thread that called ToFile, and threads that enter a
/// LogCaptureScope with its id — so concurrent runs in one process (`sluice serve`) keep separate logs.
class LogCapture {
 public:
  static std::unique_ptr<LogCapture> ToFile(const std::string& path);
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  /// The capture of the calling thread (0 = none), to hand to threads it starts.
  static uint64_t Current();

 private:
  LogCapture(uint64_t id, uint64_t previous) : id_(id), previous_(previous) {}
  uint64_t id_;
  uint64_t previous_;
};

/// Makes the calling thread's log lines go to capture `id` (from LogCapture::Current() of the
/// thread that started it) for the scope's lifetime.
class LogCaptureScope {
 public:
  explicit LogCaptureScope(uint64_t id);
  ~LogCaptureScope();
  LogCaptureScope(const LogCaptureScope&) = delete;
  LogCaptureScope& operator=(const LogCaptureScope&) = delete;

 private:
  uint64_t previous_;
};

}  // namespace sluice
