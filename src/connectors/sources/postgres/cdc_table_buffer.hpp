#pragma once

// One captured table's changes of the current micro-batch, appended as text into an engine temp
// table (memory: the engine's, which spills to disk past its limit) and exposed as a typed view.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "connectors/change_capture.hpp"
#include "connectors/postgres/pg_types.hpp"
#include "connectors/postgres/pgoutput_decoder.hpp"
#include "engine/appender.hpp"
#include "engine/engine.hpp"

namespace sluice::connectors::pgcdc {

/// What one change adds to its table's batch.
struct ChangeRow {
  const char* change_type = "insert";
  postgres::Lsn lsn;
  int64_t commit_time_unix_us = 0;
  uint32_t xid = 0;
  const postgres::Tuple* values = nullptr;      // by position of the current layout; null = all NULL (truncate)
  const postgres::Tuple* old_values = nullptr;  // REPLICA IDENTITY FULL's old row: fills unchanged TOAST values
};

class TableBuffer {
 public:
  TableBuffer(CapturedTable table, std::string relation) : table_(std::move(table)), relation_(std::move(relation)) {}

  const CapturedTable& table() const { return table_; }
  int64_t rows() const { return rows_; }
  bool has_unchanged() const { return has_unchanged_; }

  /// The table's columns as the latest Relation message lists them (tuple positions follow this
  /// order), with their types. Columns not seen before are added to the batch.
  Status SetLayout(engine::Connection& connection, std::vector<postgres::PgColumn> layout);
  /// The layout's column names, to tell whether a Relation message changed anything.
  std::vector<std::string> LayoutNames() const;

  Result<int64_t> Append(engine::Connection& connection, const ChangeRow& row);
  /// Flushes and creates the typed view `<relation>` over the text table; the batch description.
  Result<ChangeBatchTable> Finish(engine::Connection& connection);
  /// Closes the appender, so that nothing of this buffer touches the connection the batch was
  /// read on while another thread writes the batch from it (the pipeline reads the next batch
  /// on another connection meanwhile).
  Status Seal();
  /// Drops the batch's engine objects and starts an empty batch (the layout stays).
  Status Reset(engine::Connection& connection);

 private:
  Status Open(engine::Connection& connection);
  std::string TextTable() const { return relation_ + "_text"; }

  CapturedTable table_;
  std::string relation_;
  std::vector<postgres::PgColumn> columns_;  // every column of this batch (by first appearance), latest type
  std::vector<size_t> position_to_column_;   // layout position → index in columns_
  std::unique_ptr<engine::Appender> appender_;
  bool table_created_ = false;
  int64_t rows_ = 0;
  bool has_unchanged_ = false;
};

}  // namespace sluice::connectors::pgcdc
