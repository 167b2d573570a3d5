#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "catalog/metadata_store.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "config/job_modes.hpp"
#include "connectors/sinks/lake/lake_sink.hpp"
#include "connectors/source.hpp"
#include "engine/engine.hpp"
#include "storage/lake_layout.hpp"

namespace sluice::pipeline {

/// The rows a job sets aside — unreadable input, rows a step or the schema policy refused, rows a
/// quarantining check caught — staged as the lake table <zone>.<table>__rejects, published by the
/// job's own commit (whatever the job's target: the lake or a database).
class RejectsWriter {
 public:
  /// `layout` is the job's target layout; rejects live beside it as <table>__rejects. `catalog` gives the
  /// rejects table's field ids before its files are written.
  RejectsWriter(catalog::MetadataStore& catalog, RunId run_id, std::filesystem::path staging_dir,
                storage::TableLayout layout, std::string of_table, TimePoint loaded_at);

  /// Stages the rows of `select` (with _run_id) under `name`; returns the files staged.
  Result<std::vector<connectors::StagedFile>> Stage(engine::Connection& connection, const std::string& select,
                                                    const std::string& name);

  /// The source's unreadable rows: fails the job on the first one (on_error: fail, naming file,
  /// line and column) or stages them all (on_error: quarantine).
  Status SetAsideUnreadable(engine::Connection& connection, const connectors::SourceReader& reader,
                            config::OnError on_error);

  /// Adds the <table>__rejects change for everything staged (nothing when nothing was).
  Status AddToCommit(catalog::CommitRequest* commit);

  const std::vector<connectors::StagedFile>& files() const { return files_; }
  int64_t rows() const { return rows_; }
  void set_loaded_at(TimePoint loaded_at) { loaded_at_ = loaded_at; }

 private:
  storage::TableLayout RejectsLayout() const;
  catalog::TableName RejectsTable() const;
  /// The rejects table's schema with everything staged so far, with the field ids the commit will give it.
  Result<catalog::Schema> DecidedSchema();

  catalog::MetadataStore& catalog_;
  std::optional<std::optional<catalog::TableInfo>> existing_;  // the rejects table as read once (outer: read yet)

  RunId run_id_;
  std::filesystem::path staging_dir_;
  storage::TableLayout layout_;
  std::string of_table_;  // "zone.table" (or the database table) the rows were meant for
  TimePoint loaded_at_;
  std::vector<engine::ColumnDescription> columns_;
  std::vector<connectors::StagedFile> files_;
  int64_t rows_ = 0;
};

}  // namespace sluice::pipeline
