#include <fmt/format.h>

#include "common/fault_point.hpp"
#include "common/strings.hpp"
#include "pipeline/catalog_views.hpp"
#include "pipeline/job_execution.hpp"

namespace sluice::pipeline {

std::string StagedScan(const std::vector<connectors::StagedFile>& files) {
  std::vector<std::string> paths;
  for (const auto& f : files) paths.push_back(SqlQuote(f.local.string()));
  return fmt::format("read_parquet([{}], hive_partitioning = true, union_by_name = true)", Join(paths, ", "));
}

Status JobExecution::BindTargetCurrent(engine::Connection& connection) {
  if (!existing_ || existing_->current_version == 0 || ctx_.full_refresh) return Status::OK();
  SLUICE_ASSIGN_OR_RETURN(auto scan,
                          TableScanSql(ws_.catalog(), ws_.lake(), *existing_, std::nullopt, &ws_.query_cache()));
  return connection.Execute("CREATE OR REPLACE TEMP VIEW target_current AS " + scan);
}

transforms::StepContext JobExecution::NewStepContext(engine::Connection& connection) const {
  return transforms::StepContext{connection,
                                 ctx_.run_id,
                                 loaded_at_,
                                 summary_.table,
                                 existing_.has_value() && existing_->current_version > 0 && !ctx_.full_refresh,
                                 MaskKey()};
}

Status JobExecution::StagePart(engine::Connection& connection, const std::string& relation, int part,
                               const std::string& data_prefix, const FixedPartitions& fixed) {
  transforms::StepContext step_context = NewStepContext(connection);
  std::vector<std::string> rejects;
  SLUICE_ASSIGN_OR_RETURN(auto shaped,
                          chain_.Apply(step_context, relation, fmt::format("step_{}_{}", job_.name, part), &rejects));
  if (!output_filter_.empty()) {  // overwrite_partitions: only the partitions being replaced
    std::string view = SqlIdent(fmt::format("step_{}_{}_affected", job_.name, part));
    SLUICE_TRY(connection.Execute(
        fmt::format("CREATE OR REPLACE TEMP VIEW {} AS SELECT * FROM {} WHERE {}", view, shaped, output_filter_)));
    shaped = view;
  }
  SLUICE_ASSIGN_OR_RETURN(auto columns, connection.Describe("SELECT * FROM " + shaped));
  std::optional<catalog::TableInfo> known =
      ctx_.full_refresh || plan_.write == config::WriteMode::kOverwrite ? std::nullopt : existing_;
  if (schema_) {
    if (!known) known = catalog::TableInfo{};
    known->name = table_name_;
    known->schema = *schema_;
  }
  auto decision = DecideSchema(known, columns, partition_columns_, policy_);
  if (!decision.ok()) return decision.status();
  schema_ = WithTableFieldIds(existing_, decision->schema);
  auto [fitting, unfit] = QuarantineSelects(shaped, *decision);
  if (!unfit.empty() && single_scan_) {
    // Setting rows aside reads the part twice; a part the source streams must be held first.
    std::string held = SqlIdent(fmt::format("held_{}_{}", job_.name, part));
    SLUICE_TRY(connection.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS SELECT * FROM {}", held, shaped)));
    shaped = held;
    std::tie(fitting, unfit) = QuarantineSelects(shaped, *decision);
  }
  std::string output = fitting.empty() ? shaped : "(" + fitting + ")";
  if (!unfit.empty()) rejects.push_back(unfit);
  last_output_ = output;

  connectors::LakeWriteRequest write;
  write.select_sql = "SELECT * FROM " + checks_.Kept(output);
  write.staging_dir = scratch_.path / "data" / fmt::format("part-{:05d}", part);
  write.data_prefix = data_prefix;
  write.fixed_partitions = fixed;
  write.partition_by = plan_.partition_by;
  if (plan_.target_file_bytes) write.target_file_bytes = *plan_.target_file_bytes;
  write.file_prefix = fmt::format("part-{}-{:05d}", ctx_.run_id, part);
  write.unordered = single_scan_;
  write.field_ids = ParquetFieldIds(*schema_);
  SLUICE_ASSIGN_OR_RETURN(auto files, connectors::WriteParquetToStaging(connection, write));
  for (auto& f : files) {
    summary_.rows_written += f.rows;
    summary_.bytes_written += f.bytes;
    staged_.push_back(std::move(f));
  }
  summary_.files_written = static_cast<int64_t>(staged_.size());

  int n = 0;
  for (const auto& select : rejects) {
    SLUICE_TRY(StageRejects(connection, select, fmt::format("{}-{}", part, n++)).status());
  }
  if (std::string quarantined = checks_.Quarantined(output); !quarantined.empty()) {
    SLUICE_ASSIGN_OR_RETURN(auto files, StageRejects(connection, quarantined, fmt::format("{}-checks", part)));
    quarantined_.insert(quarantined_.end(), files.begin(), files.end());
  }
  SLUICE_FAULT_POINT("part_staged");
  return Status::OK();
}

Result<std::vector<connectors::StagedFile>> JobExecution::StageRejects(engine::Connection& connection,
                                                                       const std::string& select,
                                                                       const std::string& name) {
  SLUICE_ASSIGN_OR_RETURN(auto files, rejects_->Stage(connection, select, name));
  summary_.rows_rejected = rejects_->rows();
  return files;
}

void JobExecution::StartRejects() {
  rejects_.emplace(ws_.catalog(), ctx_.run_id, scratch_.path / "rejects", layout_, summary_.table, loaded_at_);
}

Secret JobExecution::MaskKey() const {
  const auto* key = ws_.project().masking.Find("key");
  return Secret(key != nullptr && key->IsScalar() ? key->scalar() : "");
}

Status JobExecution::Audit(engine::Connection& connection) {
  std::string output = staged_.empty() ? fmt::format("(SELECT * FROM {} LIMIT 0)", last_output_) : StagedScan(staged_);
  std::string quarantined = quarantined_.empty() ? "" : StagedScan(quarantined_);
  return checks_.Audit(connection, output, quarantined, summary_.table, loaded_at_, &summary_.checks);
}

}  // namespace sluice::pipeline
