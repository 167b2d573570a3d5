#include "notify/message.hpp"

#include <fmt/format.h>

namespace sluice::notify {
namespace {

std::string Bytes(int64_t bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 4) {
    v /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, units[unit]);
}

}  // namespace

std::string NoticeSubject(const RunNotice& notice) {
  return fmt::format("[sluice] {}{}{} {} (run {})", notice.project, notice.project.empty() ? "" : "/", notice.pipeline,
                     notice.status, notice.run_id);
}

std::string NoticeText(const RunNotice& notice) {
  std::string text =
      fmt::format("Pipeline: {}\nRun:      {}\nStatus:   {}\nTrigger:  {}\nDuration: {:.1f}s\n", notice.pipeline,
                  notice.run_id, notice.status, notice.trigger, notice.duration_seconds);
  text += fmt::format("Written:  {} rows, {}\n", notice.rows_written, Bytes(notice.bytes_written));
  if (!notice.error.empty()) text += fmt::format("\nError:\n  {}\n", notice.error);
  if (!notice.jobs.empty()) {
    text += "\nJobs:\n";
    for (const auto& j : notice.jobs) {
      text +=
          fmt::format("  {:<20} {:<10} {} rows, {} -> {}{}\n", j.job, j.status, j.rows_written, Bytes(j.bytes_written),
                      j.table, j.attempts > 1 ? fmt::format(" ({} attempts)", j.attempts) : "");
      if (!j.message.empty() && j.status != "succeeded") text += fmt::format("  {:<20} {}\n", "", j.message);
    }
  }
  text += fmt::format("\nLogs: {}\n", notice.LogsHint());
  return text;
}

nlohmann::json NoticeJson(const RunNotice& notice) {
  nlohmann::json jobs = nlohmann::json::array();
  for (const auto& j : notice.jobs) {
    jobs.push_back({{"job", j.job},
                    {"status", j.status},
                    {"table", j.table},
                    {"rows_written", j.rows_written},
                    {"rows_rejected", j.rows_rejected},
                    {"bytes_written", j.bytes_written},
                    {"attempts", j.attempts},
                    {"message", j.message}});
  }
  return {{"project", notice.project},
          {"pipeline", notice.pipeline},
          {"run_id", notice.run_id},
          {"status", notice.status},
          {"trigger", notice.trigger},
          {"duration_seconds", notice.duration_seconds},
          {"rows_written", notice.rows_written},
          {"bytes_written", notice.bytes_written},
          {"error", notice.error},
          {"jobs", jobs},
          {"logs", notice.LogsHint()}};
}

}  // namespace sluice::notify
