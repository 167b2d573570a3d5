#pragma once

#include <cstdio>
#include <mutex>

#include "pipeline/progress.hpp"

namespace sluice::cli {

/// Renders a run's progress on stderr: one rewritten line on a terminal, a plain line every few
/// seconds otherwise (logs, CI), and one summary line per finished job either way.
class ProgressDisplay final : public pipeline::ProgressListener {
 public:
  explicit ProgressDisplay(FILE* out);
  void OnJobStart(const std::string& job, const std::string& input_summary) override;
  void OnJobProgress(const pipeline::JobProgress& progress) override;
  void OnJobFinish(const pipeline::JobSummary& summary) override;

 private:
  void ClearLine();
  FILE* out_;
  bool terminal_;
  std::mutex mutex_;
  double last_plain_print_ = 0;
  bool line_dirty_ = false;
};

}  // namespace sluice::cli
