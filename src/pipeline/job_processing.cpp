#include <fmt/format.h>

#include <mutex>

#include "common/strings.hpp"
#include "pipeline/catalog_input.hpp"
#include "pipeline/catalog_views.hpp"
#include "pipeline/job_execution.hpp"
#include "pipeline/partition_overwrite.hpp"
#include "pipeline/progress_poller.hpp"

namespace sluice::pipeline {

Status JobExecution::ExecuteCatalogInput() {
  // A declared `write: overwrite` rebuilds from whole inputs; merge also overwrites the table, but
  // applies only the new input rows to the target's current state. overwrite_partitions without
  // partition columns has one partition, the whole table.
  const bool by_partition = plan_.write == config::WriteMode::kOverwritePartitions;
  const bool rebuilds =
      job_.target.write == config::WriteMode::kOverwrite || (by_partition && plan_.partition_by.empty());
  SLUICE_ASSIGN_OR_RETURN(auto input, CatalogInput::Open(ws_.catalog(), job_, scope_, ctx_.full_refresh,
                                                         /*whole_when_changed=*/rebuilds));
  if (ctx_.listener) ctx_.listener->OnJobStart(job_.name, input.Summary());
  if (input.NothingToRead()) return NoNewInput(&summary_, input.Summary());
  layout_ = storage::TableLayout{job_.target.zone, "", job_.target.table};
  StartRejects();
  partition_columns_ = plan_.partition_by;
  SLUICE_ASSIGN_OR_RETURN(auto connection, ws_.engine().Connect());
  ScopedInterruptAttach interruptible(ctx_.interrupt, *connection);
  SLUICE_TRY(Interrupted(ctx_.interrupt));
  std::string relation = "input_" + job_.name;
  // Catalog-input jobs bind zone.table views in the shared engine; concurrent ones would clobber them.
  std::lock_guard views_lock(ws_.catalog_input_mutex());
  SLUICE_TRY(input.Bind(*connection, ws_.catalog(), ws_.lake(), &ws_.query_cache(), relation));
  SLUICE_TRY(BindTargetCurrent(*connection));
  if (by_partition && !input.ReadsWholeTables()) {
    // Replacing a partition with what the new rows alone produce would drop its older rows: the
    // partitions the new rows reach are recomputed from the whole inputs (Spark's dynamic
    // partition overwrite, with the partitions chosen by the new input).
    transforms::StepContext step_context = NewStepContext(*connection);
    SLUICE_ASSIGN_OR_RETURN(auto affected, PlanPartitionOverwrite(*connection, chain_, step_context, SqlIdent(relation),
                                                                  plan_.partition_by, summary_.table, job_.name));
    output_filter_ = affected.condition;
    if (affected.partitions > 0) {
      summary_.message =
          fmt::format("recomputed {} partition{}", affected.partitions, affected.partitions == 1 ? "" : "s");
    }
    SLUICE_TRY(input.WidenToWholeTables(ws_.catalog()));
    SLUICE_TRY(input.Bind(*connection, ws_.catalog(), ws_.lake(), &ws_.query_cache(), relation));
  }
  {
    ProgressPoller poller(*connection, ctx_.listener, job_.name, input.PendingBytes());
    SLUICE_TRY(StagePart(*connection, SqlIdent(relation), 0, layout_.Root(), {}));
  }
  summary_.rows_read = summary_.rows_written + summary_.rows_rejected;
  SLUICE_TRY(Audit(*connection));

  catalog::CommitRequest commit = NewCommit();
  bool replace_all = ctx_.full_refresh || plan_.write == config::WriteMode::kOverwrite;
  commit.tables.push_back(OutputChange(replace_all, input.Description()));
  SLUICE_TRY(rejects_->AddToCommit(&commit));
  for (auto& bookmark : input.AdvancedBookmarks(scope_)) commit.state.push_back(std::move(bookmark));
  return Publish(commit);
}

}  // namespace sluice::pipeline
