#pragma once

#include <cstdio>
#include <memory>
#include <mutex>

#include "common/secret.hpp"
#include "pipeline/progress.hpp"

namespace sluice::cli {

/// Renders a run's progress on stderr: one rewritten line on a terminal, a plain line every few
/// seconds otherwise (logs, CI), and one summary line per finished job either way.
class ProgressDisplay final : public pipeline::ProgressListener {
 public:
  /// Every line passes through `redactor` (when given) before it is written.
  explicit ProgressDisplay(FILE* out, std::shared_ptr<const Redactor> redactor = nullptr);
  void OnJobStart(const std::string& job, const std::string& input_summary) override;
  void OnJobProgress(const pipeline::JobProgress& progress) override;
  void OnJobFinish(const pipeline::JobSummary& summary) override;

 private:
  void ClearLine();
  void Write(const std::string& text);
  FILE* out_;
  std::shared_ptr<const Redactor> redactor_;
  bool terminal_;
  std::mutex mutex_;
  double last_plain_print_ = 0;
  bool line_dirty_ = false;
};

}  // namespace sluice::cli
