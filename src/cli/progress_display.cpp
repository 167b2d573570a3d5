#include "cli/progress_display.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include "common/strings.hpp"

namespace sluice::cli {

ProgressDisplay::ProgressDisplay(FILE* out, std::shared_ptr<const Redactor> redactor)
    : out_(out), redactor_(std::move(redactor)), terminal_(::isatty(::fileno(out)) == 1) {}

void ProgressDisplay::Write(const std::string& text) {
  std::string shown = redactor_ ? redactor_->Apply(text) : text;
  std::fputs(shown.c_str(), out_);
}

void ProgressDisplay::ClearLine() {
  if (terminal_ && line_dirty_) {
    std::fputs("\r\033[2K", out_);
    line_dirty_ = false;
  }
}

void ProgressDisplay::OnJobStart(const std::string& job, const std::string& input_summary) {
  std::lock_guard lock(mutex_);
  ClearLine();
  Write(fmt::format("▶ {}: {}\n", job, input_summary));
  std::fflush(out_);
  last_plain_print_ = 0;
}

void ProgressDisplay::OnJobProgress(const pipeline::JobProgress& p) {
  std::lock_guard lock(mutex_);
  if (!terminal_ && p.elapsed_seconds - last_plain_print_ < 5.0) return;
  last_plain_print_ = p.elapsed_seconds;
  std::string pct = p.percentage >= 0 ? fmt::format("{:5.1f}%", p.percentage) : "    …";
  std::string bytes;
  if (p.input_bytes > 0 && p.percentage >= 0 && p.elapsed_seconds > 0) {
    double done = static_cast<double>(p.input_bytes) * p.percentage / 100.0;
    bytes = fmt::format("  {} of {}  {}/s", HumanBytes(static_cast<uint64_t>(done)), HumanBytes(p.input_bytes),
                        HumanBytes(static_cast<uint64_t>(done / p.elapsed_seconds)));
  }
  std::string rows;
  if (p.rows > 0 && p.elapsed_seconds > 0) {
    rows = fmt::format("  {} rows  {:.0f} rows/s", p.rows, static_cast<double>(p.rows) / p.elapsed_seconds);
  }
  std::string line = fmt::format("  {} {}{}{}  {:.1f}s", p.job, pct, bytes, rows, p.elapsed_seconds);
  if (terminal_) {
    Write(fmt::format("\r\033[2K{}", line));
    line_dirty_ = true;
  } else {
    Write(fmt::format("{}\n", line));
  }
  std::fflush(out_);
}

void ProgressDisplay::OnJobFinish(const pipeline::JobSummary& s) {
  std::lock_guard lock(mutex_);
  ClearLine();
  if (s.status == pipeline::JobStatus::kSucceeded) {
    double rate = s.seconds > 0 ? static_cast<double>(s.rows_written) / s.seconds : 0;
    if (s.table_version == 0) {  // a target outside the lake: no table version, no files of ours
      Write(fmt::format("✔ {} → {}: {} rows, {} in {:.2f}s ({:.0f} rows/s){}\n", s.job, s.table, s.rows_written,
                        HumanBytes(static_cast<uint64_t>(s.bytes_written)), s.seconds, rate,
                        s.rows_rejected > 0 ? "; " + s.message : ""));
      return;
    }
    Write(fmt::format(
        "✔ {} → {} v{}: {} rows, {} files, {} in {:.2f}s ({:.0f} rows/s){}\n", s.job, s.table, s.table_version,
        s.rows_written, s.files_written, HumanBytes(static_cast<uint64_t>(s.bytes_written)), s.seconds, rate,
        s.rows_rejected > 0 ? fmt::format("; {} rows rejected → {}__rejects", s.rows_rejected, s.table) : ""));
  } else if (s.status == pipeline::JobStatus::kNoChanges) {
    Write(fmt::format("= {}: no changes — {}\n", s.job, s.message));
  } else if (s.status == pipeline::JobStatus::kSkipped) {
    Write(fmt::format("- {}: skipped — {}\n", s.job, s.message));
  } else {
    Write(fmt::format("✘ {} failed after {:.2f}s: {}\n", s.job, s.seconds, s.message));
  }
  std::fflush(out_);
}

}  // namespace sluice::cli
