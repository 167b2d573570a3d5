#pragma once

// mode: cdc health for `sluice cdc status` and `sluice serve`'s /metrics: each cdc job's slot as
// the server sees it, with the lag of what the catalog has committed.

#include <optional>
#include <string>
#include <vector>

#include "config/pipeline.hpp"
#include "connectors/change_capture.hpp"
#include "pipeline/workspace.hpp"

namespace sluice::pipeline {

struct CdcJobStatus {
  std::string pipeline, job;
  std::optional<connectors::SlotHealth> health;  // none when the slot's server could not be asked
  std::string error;                             // why not (redacted)
  /// "not started …", "copy under way …", "resnapshot needed …" or "warning: …"; "" when healthy.
  std::string note;
  bool warning = false;  // the note asks for action (resnapshot, WAL about to be lost)
};

/// The cdc jobs of `pipelines` (only pipeline `only` when set), each asked of its slot's server.
std::vector<CdcJobStatus> CdcStatuses(Workspace& workspace, const std::vector<config::PipelineConfig>& pipelines,
                                      const std::string& only = "");

/// Prometheus text (version 0.0.4): sluice_cdc_up, sluice_cdc_slot_active, sluice_cdc_lag_bytes,
/// sluice_cdc_lag_seconds, sluice_cdc_safe_wal_bytes, per pipeline, job and slot; "" without cdc jobs.
std::string CdcMetricsText(const std::vector<CdcJobStatus>& statuses);

}  // namespace sluice::pipeline
