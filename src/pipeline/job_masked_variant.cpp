#include <fmt/format.h>

#include "common/strings.hpp"
#include "pipeline/job_execution.hpp"
#include "transforms/masked_variant.hpp"

namespace sluice::pipeline {

Result<catalog::TableChange> JobExecution::MaskedVariant(engine::Connection& connection,
                                                         const std::string& masked_prefix, const FixedPartitions& fixed,
                                                         bool replace_all) {
  SLUICE_TRY(transforms::ValidateJobMask(job_.mask, job_.name));  // fails even when nothing was staged
  catalog::TableChange change;
  change.table = catalog::TableName{job_.target.zone, job_.target.table + "__masked"};
  change.operation = replace_all ? catalog::WriteOperation::kOverwrite : catalog::WriteOperation::kAppend;
  change.remove_all_current = replace_all;
  change.location = masked_prefix;
  change.source = fmt::format("{} with columns masked", summary_.table);
  change.partition_columns = partition_columns_;
  if (staged_.empty()) return change;
  // Fixed partitions (_load_date) live in the key, not in the files: read them back out of the rows.
  std::vector<std::string> fixed_columns;
  for (const auto& [column, value] : fixed) fixed_columns.push_back(SqlIdent(column));
  std::string view = SqlIdent(fmt::format("masked_source_{}", job_.name));
  SLUICE_TRY(connection.Execute(fmt::format(
      "CREATE OR REPLACE TEMP VIEW {} AS SELECT *{} FROM {}", view,
      fixed_columns.empty() ? "" : fmt::format(" EXCLUDE ({})", Join(fixed_columns, ", ")), StagedScan(staged_))));
  SLUICE_ASSIGN_OR_RETURN(auto masked_sql,
                          transforms::MaskedVariantSelect(connection, view, job_.mask, job_.name, MaskKey()));

  SLUICE_ASSIGN_OR_RETURN(auto columns, connection.Describe(masked_sql));
  SLUICE_ASSIGN_OR_RETURN(auto existing, ws_.catalog().GetTable(change.table));
  SLUICE_ASSIGN_OR_RETURN(auto decision, DecideSchema(replace_all ? std::nullopt : existing, columns,
                                                      partition_columns_, SchemaChangePolicy::kEvolve));
  change.schema = WithTableFieldIds(existing, decision.schema);

  connectors::LakeWriteRequest write;
  write.select_sql = masked_sql;
  write.staging_dir = scratch_.path / "masked";
  write.data_prefix = masked_prefix;
  write.fixed_partitions = fixed;
  write.partition_by = plan_.partition_by;
  if (plan_.target_file_bytes) write.target_file_bytes = *plan_.target_file_bytes;
  write.file_prefix = fmt::format("part-{}-masked", ctx_.run_id);
  write.field_ids = ParquetFieldIds(change.schema);
  SLUICE_ASSIGN_OR_RETURN(auto files, connectors::WriteParquetToStaging(connection, write));
  for (const auto& f : files) change.added.push_back({f.key, f.rows, f.bytes, f.partition_values, 0, f.column_stats});
  masked_.insert(masked_.end(), files.begin(), files.end());
  return change;
}

}  // namespace sluice::pipeline
