#include "pipeline/rejects_writer.hpp"

#include <spdlog/spdlog.h>

#include "common/strings.hpp"
#include "pipeline/schema_evolution.hpp"

namespace sluice::pipeline {

RejectsWriter::RejectsWriter(catalog::MetadataStore& catalog, RunId run_id, std::filesystem::path staging_dir,
                             storage::TableLayout layout, std::string of_table, TimePoint loaded_at)
    : catalog_(catalog),
      run_id_(std::move(run_id)),
      staging_dir_(std::move(staging_dir)),
      layout_(std::move(layout)),
      of_table_(std::move(of_table)),
      loaded_at_(loaded_at) {}

storage::TableLayout RejectsWriter::RejectsLayout() const {
  return storage::TableLayout{layout_.zone, layout_.source, layout_.table + "__rejects"};
}

catalog::TableName RejectsWriter::RejectsTable() const {
  return catalog::TableName{layout_.zone, layout_.table + "__rejects"};
}

Result<catalog::Schema> RejectsWriter::DecidedSchema() {
  if (!existing_) {
    SLUICE_ASSIGN_OR_RETURN(auto existing, catalog_.GetTable(RejectsTable()));
    existing_ = std::move(existing);
  }
  // Rejects of different causes have different columns; the table takes them all, text when they clash.
  SLUICE_ASSIGN_OR_RETURN(auto decision,
                          DecideSchema(*existing_, columns_, {"_load_date"}, SchemaChangePolicy::kEvolve));
  return WithTableFieldIds(*existing_, decision.schema);
}

Result<std::vector<connectors::StagedFile>> RejectsWriter::Stage(engine::Connection& connection,
                                                                 const std::string& select, const std::string& name) {
  SLUICE_ASSIGN_OR_RETURN(auto set_aside, connection.Describe(select));
  bool has_run_id = false;
  for (const auto& c : set_aside) has_run_id |= c.name == "_run_id";
  std::string with_run =
      has_run_id ? fmt::format("SELECT * REPLACE ({} AS _run_id) FROM ({})", SqlQuote(run_id_.value), select)
                 : fmt::format("SELECT *, {} AS _run_id FROM ({})", SqlQuote(run_id_.value), select);
  SLUICE_ASSIGN_OR_RETURN(auto columns, connection.Describe(with_run));
  columns_.insert(columns_.end(), columns.begin(), columns.end());
  SLUICE_ASSIGN_OR_RETURN(auto schema, DecidedSchema());
  connectors::LakeWriteRequest write;
  write.field_ids = ParquetFieldIds(schema);
  write.select_sql = with_run;
  write.staging_dir = staging_dir_ / name;
  write.data_prefix = RejectsLayout().Root();
  write.fixed_partitions = {{"_load_date", FormatDateUtc(loaded_at_)}};
  write.file_prefix = fmt::format("part-{}-{}", run_id_, name);
  SLUICE_ASSIGN_OR_RETURN(auto files, connectors::WriteParquetToStaging(connection, write));
  for (const auto& f : files) rows_ += f.rows;
  files_.insert(files_.end(), files.begin(), files.end());
  return files;
}

Status RejectsWriter::SetAsideUnreadable(engine::Connection& connection, const connectors::SourceReader& reader,
                                         config::OnError on_error) {
  const connectors::RejectingRead* rejecting = reader.rejecting();
  if (rejecting == nullptr) return Status::OK();
  std::string rejects = rejecting->RejectsRelation();
  if (rejects.empty()) return Status::OK();
  SLUICE_ASSIGN_OR_RETURN(auto count, connection.Query(fmt::format("SELECT count(*) AS n FROM {}", rejects)));
  int64_t unreadable = count.GetInt(0, "n");
  if (unreadable == 0) return Status::OK();
  if (on_error != config::OnError::kQuarantine) {
    SLUICE_ASSIGN_OR_RETURN(
        auto first, connection.Query(fmt::format("SELECT * FROM {} ORDER BY _source_file, _line LIMIT 1", rejects)));
    std::string column = first.Get(0, "_column");
    return Status::DataError(
        "{} row{} could not be read; first at {}:{}{}: {}. Fix the input, or set on_error: quarantine to load the "
        "good rows and keep the bad ones in {}.{}__rejects",
        unreadable, unreadable == 1 ? "" : "s", first.Get(0, "_source_file"), first.Get(0, "_line"),
        column.empty() ? "" : fmt::format(" (column '{}')", column), Trim(Split(first.Get(0, "_reason"), '\n').front()),
        layout_.zone, layout_.table);
  }
  std::string select = fmt::format("SELECT *, {} AS _loaded_at FROM {}", SqlTimestampLiteral(loaded_at_), rejects);
  SLUICE_TRY(Stage(connection, select, "unreadable").status());
  spdlog::warn("{}: {} unreadable rows set aside in {}.{}__rejects", of_table_, unreadable, layout_.zone,
               layout_.table);
  return Status::OK();
}

Status RejectsWriter::AddToCommit(catalog::CommitRequest* commit) {
  if (files_.empty()) return Status::OK();
  catalog::TableChange rejects;
  rejects.table = RejectsTable();
  rejects.location = RejectsLayout().Root();
  rejects.source = "rows of " + of_table_ + " set aside";
  rejects.partition_columns = {"_load_date"};
  SLUICE_ASSIGN_OR_RETURN(rejects.schema, DecidedSchema());
  for (const auto& f : files_) rejects.added.push_back({f.key, f.rows, f.bytes, f.partition_values, 0, f.column_stats});
  commit->tables.push_back(std::move(rejects));
  return Status::OK();
}

}  // namespace sluice::pipeline
