#pragma once

#include <cstdint>
#include <memory>

#include <nlohmann/json.hpp>
#include <string>

#include "common/ids.hpp"
#include "common/logging.hpp"
#include "common/status.hpp"
#include "config/stream.hpp"
#include "pipeline/workspace.hpp"
#include "streams/flusher.hpp"

// Run records of stream flushes, so `sluice runs`, the API and the web UI show them beside pipeline runs.
namespace sluice::streams {

/// The pipeline name flushes of `stream` are recorded under: "stream:NAME".
std::string FlushRunPipeline(const std::string& stream);
/// The id of the flush of spool segment `segment`; the table version it commits names it too.
RunId FlushRunId(const std::string& stream, uint64_t segment);

/// The run record of one segment's flush: one record across its attempts (a failed flush stays visible as
/// failed, with its error, until an attempt succeeds). The flush's log lines also go to the run's log file.
/// Saving a record never fails the flush: a catalog error is logged.
class FlushRun {
 public:
  /// Records the attempt as running (inserting the record, or reopening it for a retry).
  FlushRun(pipeline::Workspace& workspace, const config::StreamConfig& stream, uint64_t segment,
           const std::string& trigger);
  void Succeeded(const FlushSummary& summary);
  void Failed(const Status& error);

 private:
  void Save(bool insert);
  void SetJob(const std::string& status, const std::string& message, const FlushSummary* summary);

  pipeline::Workspace& workspace_;
  const config::StreamConfig& stream_;
  uint64_t segment_;
  catalog::RunRecord record_;
  int64_t attempts_ = 1;
  nlohmann::json earlier_errors_ = nlohmann::json::array();
  TimePoint attempt_started_;
  std::unique_ptr<LogCapture> log_;
};

/// Flush runs of `stream` still recorded as running died with an earlier process: marks them interrupted
/// (their segment is flushed again, under the same run id).
void MarkInterruptedFlushes(pipeline::Workspace& workspace, const std::string& stream);

/// The flush of `segment` was found committed (its process stopped before it could say so): its run record,
/// if any, becomes succeeded.
void MarkFlushCommitted(pipeline::Workspace& workspace, const std::string& stream, uint64_t segment);

}  // namespace sluice::streams
