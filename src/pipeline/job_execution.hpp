#pragma once

// Internal to pipeline/: one lake job (RunJob), its stages in files of their own —
// job_runner.cpp (the job's plan, and the public entry points), job_processing.cpp (reading
// committed input tables), job_ingest.cpp (reading a connector, resumable loads, change
// detection), job_staging.cpp (steps, schema decision, quarantine, staged parts, audit),
// job_masked_variant.cpp, partition_overwrite.cpp and job_commit.cpp (the commit, the upload
// and the publish).

#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "catalog/metadata_store.hpp"
#include "connectors/sinks/lake/lake_sink.hpp"
#include "connectors/source.hpp"
#include "pipeline/change_detection.hpp"
#include "pipeline/checks_runner.hpp"
#include "pipeline/job_runner.hpp"
#include "pipeline/rejects_writer.hpp"
#include "pipeline/resumable_load.hpp"
#include "pipeline/schema_evolution.hpp"
#include "pipeline/transform_chain.hpp"
#include "storage/lake_layout.hpp"

namespace sluice::pipeline {

/// Cleans the run's private folders whatever happens.
struct ScratchFolder {
  std::filesystem::path path;
  ~ScratchFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

/// SQL reading staged (not yet published) Parquet files, hive folders as columns.
std::string StagedScan(const std::vector<connectors::StagedFile>& files);

/// Partition values that live in the object key, not in the files (raw tables' _load_date).
using FixedPartitions = std::vector<std::pair<std::string, std::string>>;

class JobExecution {
 public:
  JobExecution(JobRunContext& context, const config::JobConfig& job);

  bool lost_race() const { return lost_race_; }
  JobSummary Run();

 private:
  // job_runner.cpp: the write plan, the target and the job's state scope; then one of the two readers.
  Status Execute();

  // job_processing.cpp
  /// A processing job: the files committed to its input tables since its bookmark (all of them
  /// with --full-refresh, or whenever write: overwrite rebuilds the whole table).
  Status ExecuteCatalogInput();

  // job_ingest.cpp
  /// An ingestion job: a connector's parts, each staged as it arrives (memory holds one part).
  Status ExecuteConnector();
  /// A snapshot load interrupted earlier: fetches its chunks and sets the token the source
  /// resumes from (unless refreshing, or when the chunks are gone).
  Status LoadPendingLoad(connectors::Checkpoint* checkpoint);
  /// A resumed load: the chunks of the interrupted run(s) count as this run's first parts; they
  /// keep their _load_date, and so do the parts read now.
  void AdoptPendingChunks();
  /// Uploads the parts staged so far and records them, with where the source carries on, as the
  /// job's pending load: not visible data, but what a run after a crash resumes from.
  Status RecordPendingChunks(const std::string& resume_token);
  /// mode: changes: loads the index the last commit referenced (none after --full-refresh); rows are
  /// hashed by `hashing_read` when the source has one and agrees, else by the pipeline.
  Result<std::unique_ptr<ChangeDetector>> StartChangeDetection(engine::Connection& connection,
                                                               connectors::RowHashingRead* hashing_read,
                                                               const std::filesystem::path& scratch);

  // job_staging.cpp
  /// The target's current rows as `target_current`, for steps that combine them with the input (merge).
  Status BindTargetCurrent(engine::Connection& connection);
  transforms::StepContext NewStepContext(engine::Connection& connection) const;
  /// Steps → schema decision → quarantine → staged Parquet, for one part of the input.
  Status StagePart(engine::Connection& connection, const std::string& relation, int part,
                   const std::string& data_prefix, const FixedPartitions& fixed);
  /// Rows set aside (by a step, the schema policy or a quarantining check) → staged <table>__rejects files.
  Result<std::vector<connectors::StagedFile>> StageRejects(engine::Connection& connection, const std::string& select,
                                                           const std::string& name);
  void StartRejects();
  /// masking.key of sluice.yaml ("" when unset: hash masks then fail with a message saying where to set it).
  Secret MaskKey() const;
  /// Write-audit-publish: the checks read the staged files, exactly what the commit would publish.
  Status Audit(engine::Connection& connection);

  // job_masked_variant.cpp
  /// The `mask:` variant of what this run staged: the same rows with the chosen columns protected,
  /// staged under the table's masked/ prefix as the table <table>__masked and published by the same
  /// commit, so the two never disagree. It reads the staged files, not the source a second time.
  Result<catalog::TableChange> MaskedVariant(engine::Connection& connection, const std::string& masked_prefix,
                                             const FixedPartitions& fixed, bool replace_all);

  // job_commit.cpp
  int64_t ReadVersion() const { return existing_ ? existing_->current_version : 0; }
  catalog::CommitRequest NewCommit() const { return NewJobCommit(ctx_, job_); }
  /// append adds files; overwrite (or a rebuild) replaces every current file; overwrite_partitions
  /// replaces the current files of each partition the run wrote.
  catalog::TableChange OutputChange(bool replace_all, const std::string& source) const;
  /// The commit of an ingestion job: its data (and masked variant), rejects, consumed inputs and
  /// source state, the pending load cleared and the change index advanced; then Publish.
  Status PublishIngest(engine::Connection& connection, const connectors::SourceReader& reader,
                       const connectors::SourcePlan& plan, const FixedPartitions& fixed);
  std::vector<connectors::StagedFile> NotInLake(const std::vector<connectors::StagedFile>& files) const;
  /// Uploads the staged files and commits data, rejects and state in one transaction.
  Status Publish(catalog::CommitRequest& commit);
  /// A commit refused because the target moved on since this job read it (an overwrite, merge or
  /// partition overwrite would lose what landed meanwhile): says so, and lets RunJob plan again.
  Status LostRaceOr(const Status& failed);

  JobRunContext& ctx_;
  const config::JobConfig& job_;
  Workspace& ws_;
  JobSummary summary_;
  // The plan (Execute).
  TransformChain chain_;
  ChecksRunner checks_;
  SchemaChangePolicy policy_ = SchemaChangePolicy::kFail;
  transforms::WritePlan plan_;
  catalog::TableName table_name_;
  std::optional<catalog::TableInfo> existing_;
  std::string scope_;
  ScratchFolder scratch_;
  TimePoint loaded_at_;
  storage::TableLayout layout_;
  std::vector<std::string> partition_columns_;
  bool single_scan_ = false;  // the source was told it may stream each part (RunContext::single_scan)
  // Staging.
  std::optional<catalog::Schema> schema_;  // the table's schema after the parts staged so far
  std::string last_output_;
  std::string output_filter_;  // overwrite_partitions of new input: WHERE condition naming the partitions recomputed
  std::optional<RejectsWriter> rejects_;
  std::vector<connectors::StagedFile> staged_, quarantined_, masked_;
  // Publishing.
  std::vector<connectors::StagedFile> uploaded_;
  bool lost_race_ = false;  // the commit found the target at another version than the one read
  // A snapshot load interrupted earlier (resumed or started over).
  std::optional<PendingLoad> pending_;
  std::set<std::string> in_lake_;  // keys of staged_ already uploaded as chunks of a pending load
  int64_t adopted_rows_ = 0;       // rows of the resumed load's earlier chunks (not read by this run)
  bool pending_recorded_ = false;
  // mode: changes.
  ChangeIndexRef previous_index_;                    // the index the last commit referenced
  std::string index_hash_kind_;                      // the kind of hash new_index_ holds
  std::optional<connectors::StagedFile> new_index_;  // this run's index, published with the data
};

}  // namespace sluice::pipeline
