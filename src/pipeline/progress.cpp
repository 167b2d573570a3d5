#include "pipeline/progress.hpp"

namespace sluice::pipeline {

// These names are stored in run records and shown by the CLI, the API and the UI: never rename one.
const char* ToString(JobStatus status) {
  switch (status) {
    case JobStatus::kSucceeded: return "succeeded";
    case JobStatus::kNoChanges: return "no_changes";
    case JobStatus::kFailed: return "failed";
    case JobStatus::kCancelled: return "cancelled";
    case JobStatus::kSkipped: return "skipped";
  }
  return "unknown";
}

const char* ToString(CheckStatus status) {
  switch (status) {
    case CheckStatus::kPassed: return "passed";
    case CheckStatus::kWarned: return "warned";
    case CheckStatus::kFailed: return "failed";
    case CheckStatus::kQuarantined: return "quarantined";
  }
  return "unknown";
}

}  // namespace sluice::pipeline
