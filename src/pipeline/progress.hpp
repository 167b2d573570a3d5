#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "connectors/window_state.hpp"

namespace sluice::pipeline {

struct JobProgress {
  std::string job;
  double percentage = -1;    // -1 when unknown
  uint64_t rows = 0;         // rows processed so far (engine's estimate while running)
  uint64_t input_bytes = 0;  // total input of this run, when the source knows it
  double elapsed_seconds = 0;
};

/// How a job of a run ended (stored with the run as its name, shown by `sluice runs show`).
enum class JobStatus {
  kSucceeded,  // wrote (or ran) what it had to
  kNoChanges,  // nothing new to read: nothing written, the bookmark unchanged
  kFailed,
  kCancelled,
  kSkipped,  // not run: an upstream job's outcome did not meet its depends_on condition
};
const char* ToString(JobStatus status);

/// A check's outcome in a job.
enum class CheckStatus { kPassed, kWarned, kFailed, kQuarantined };
const char* ToString(CheckStatus status);

/// One quality check's outcome in a job (stored with the run, shown by `sluice runs show`).
struct CheckSummary {
  std::string check;     // e.g. "unique(country, year)"
  std::string severity;  // warn | fail
  CheckStatus status = CheckStatus::kPassed;
  int64_t failed_rows = 0;
  std::string detail;
};

struct JobSummary {
  std::string job;
  JobStatus status = JobStatus::kFailed;  // until the job says otherwise
  std::string table;                      // zone.table written
  int64_t rows_read = 0, rows_written = 0, rows_rejected = 0, bytes_written = 0, files_written = 0;
  int64_t table_version = 0;
  double seconds = 0;
  std::string message;     // error or note, redacted
  bool retryable = false;  // a failure that trying again may fix (lost race, server away, timeout)
  int64_t attempts = 1;    // how often the job ran in this run (1 + retries)
  std::vector<CheckSummary> checks;
  std::optional<connectors::WindowBounds> window;  // mode: window: the window the job read (or tried to)
};

/// Receives a run's progress; the CLI renders it, the server stores it. Called from the runner's
/// threads, so implementations must be thread-safe.
class ProgressListener {
 public:
  virtual ~ProgressListener() = default;
  virtual void OnJobStart(const std::string& job, const std::string& input_summary) = 0;
  virtual void OnJobProgress(const JobProgress& progress) = 0;
  virtual void OnJobFinish(const JobSummary& summary) = 0;
};

}  // namespace sluice::pipeline
