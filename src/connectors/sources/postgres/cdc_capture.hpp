#pragma once

// mode: cdc of the postgres source: slot and publication management and the pgoutput stream
// turned into micro-batches (connectors/change_capture.hpp).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/secret.hpp"
#include "config/value.hpp"
#include "connectors/change_capture.hpp"
#include "connectors/postgres/pg_client.hpp"

namespace sluice::connectors::pgcdc {

struct CdcOptions {
  std::string url;
  std::optional<Secret> password;
  postgres::ConnectOptions connect;
  std::string connection, pipeline, job;
  config::Location location;
  std::vector<CapturedTable> tables;  // keys are filled by Start()
  std::string slot, publication;
  std::chrono::milliseconds commit_every{10000};
  int64_t max_rows = 100000;
  int64_t max_bytes = 64ll << 20;
  std::string heartbeat_sql;  // "" = no heartbeat write
  std::chrono::milliseconds heartbeat_every{60000};
  config::Location heartbeat_location;
};

/// What a cdc job keeps in the catalog with its data (opaque JSON to the pipeline).
struct CdcState {
  std::string slot, publication;
  bool created_slot = false;
  bool created_publication = false;
  bool copied = false;  // false with created_slot: a copy is under way from the slot's consistent point `lsn`
  uint64_t lsn = 0;     // every transaction committing before this position is in the lake
  /// Source time (unix µs) up to which the lake holds every change: the commit time of the last
  /// transaction committed, or the server's clock when it reported an idle stretch; 0 = unknown.
  int64_t as_of_us = 0;

  static Result<CdcState> Parse(const std::string& json);
  std::string ToJson() const;
};

std::unique_ptr<ChangeCapture> MakePgChangeCapture(CdcOptions options);

}  // namespace sluice::connectors::pgcdc
