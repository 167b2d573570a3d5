#include "streams/flusher.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <set>

#include "common/fault_point.hpp"
#include "common/json_limits.hpp"
#include "common/strings.hpp"
#include "connectors/sinks/lake/lake_sink.hpp"
#include "pipeline/rejects_writer.hpp"
#include "pipeline/schema_evolution.hpp"
#include "storage/lake_layout.hpp"
#include "streams/flush_input.hpp"
#include "streams/flush_run.hpp"
#include "streams/spool.hpp"

namespace sluice::streams {

namespace fs = std::filesystem;

namespace {

/// Removes a flush's staging folder however the flush ends.
struct StagingFolder {
  fs::path path;
  ~StagingFolder() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

/// Columns sluice adds to every record; a record's own field of one of these names is kept renamed.
constexpr std::array<const char*, 3> kSluiceColumns = {"_arrived_at", "_arrival_date", "_source_file"};

bool IsSluiceColumn(const std::string& name) {
  std::string folded = ToLower(name);
  return std::any_of(kSluiceColumns.begin(), kSluiceColumns.end(), [&](const char* c) { return folded == c; });
}

/// The select list of the records' fields (`names`, the fields of struct r): a field named like a column sluice
/// adds is kept as record<name in lower case> ("_Source_File" → "record_source_file"; "record_" is prefixed
/// again while that name is taken), so sluice's columns always say where and when the record arrived.
std::string FieldList(const std::vector<engine::ColumnDescription>& names) {
  std::set<std::string> taken;
  for (const auto& c : names) taken.insert(ToLower(c.name));
  std::vector<std::string> fields;
  for (const auto& c : names) {
    std::string as = c.name;
    if (IsSluiceColumn(c.name)) {
      as = "record" + ToLower(c.name);
      while (taken.count(ToLower(as)) > 0) as = "record_" + as;
      taken.insert(ToLower(as));
    }
    fields.push_back(fmt::format("r.{} AS {}", SqlIdent(c.name), SqlIdent(as)));
  }
  return fields.empty() ? "" : Join(fields, ", ") + ", ";
}

storage::TableLayout StreamLayout(const config::StreamConfig& stream) {
  return storage::TableLayout{stream.zone, stream.zone == "raw" ? "streams" : "", stream.table};
}

/// A flush's files staged locally: the table's Parquet, the rejects, and the schema they were written with.
struct StagedFlush {
  std::vector<connectors::StagedFile> staged;
  std::unique_ptr<pipeline::RejectsWriter> rejects;
  catalog::Schema schema;
  std::vector<std::string> partition_by;
};

/// Reads `lines_file` (JSON lines {"t", "r"}), shapes the records (sluice's columns, derived columns, the table's
/// schema and policy, the partition cap) and stages the table's files and the rejects — among them the records
/// `input` has set aside — under `staging_dir`.
Result<StagedFlush> StageRecords(catalog::MetadataStore& catalog, const config::StreamConfig& stream,
                                 engine::Connection* connection, const fs::path& lines_file, const FlushInput& input,
                                 const std::optional<catalog::TableInfo>& existing, const fs::path& staging_dir,
                                 const RunId& run_id, const std::string& source_file, TimePoint now) {
  std::error_code ec;
  fs::remove_all(staging_dir / "data", ec);
  fs::remove_all(staging_dir / "rejects", ec);
  if (fs::file_size(lines_file, ec) == 0 && !ec) {
    SLUICE_TRY(connection->Execute("CREATE OR REPLACE TEMP TABLE stream_lines (t BIGINT, r JSON)"));
  } else {
    SLUICE_TRY(connection->Execute("CREATE OR REPLACE TEMP TABLE stream_lines AS " + ReadLinesSql(lines_file)));
  }
  SLUICE_ASSIGN_OR_RETURN(auto read_columns, connection->Describe("SELECT * FROM stream_lines"));
  std::string fields;
  for (const auto& c : read_columns) {
    if (c.name != "r" || !StartsWith(c.type, "STRUCT")) continue;
    SLUICE_ASSIGN_OR_RETURN(auto names, connection->Describe("SELECT r.* FROM stream_lines"));
    fields = FieldList(names);
  }
  SLUICE_TRY(connection->Execute(
      fmt::format("CREATE OR REPLACE TEMP VIEW stream_records AS SELECT {}make_timestamp(t) AS _arrived_at, "
                  "CAST(make_timestamp(t) AS DATE) AS _arrival_date, {} AS _source_file FROM stream_lines",
                  fields, SqlQuote(source_file))));
  SLUICE_ASSIGN_OR_RETURN(auto record_columns, connection->Describe("SELECT * FROM stream_records"));

  // Derived columns: an expression that fails on a record gives NULL for that record (TRY) rather than
  // stopping the stream; one that cannot be bound at all (a field no record has) is NULL with a warning.
  // A derived column named like a field of the records replaces it (its expression may use the field).
  std::vector<std::string> derived, replaced;
  for (const auto& [name, expression] : stream.columns) {
    std::string candidate = fmt::format("TRY({}) AS {}", expression, SqlIdent(name));
    auto bound = connection->Describe(fmt::format("SELECT {} FROM stream_records", candidate));
    if (!bound.ok()) {
      spdlog::warn("stream '{}': column {} = {} cannot be computed over spool segment {}: {}; it is NULL there",
                   stream.name, name, expression, source_file, bound.status().message());
      candidate = fmt::format("NULL AS {}", SqlIdent(name));
    }
    bool is_field = std::any_of(record_columns.begin(), record_columns.end(),
                                [&name = name](const auto& c) { return ToLower(c.name) == ToLower(name); });
    (is_field ? replaced : derived).push_back(candidate);
  }
  std::vector<std::string> partition_by =
      stream.partition_by.empty() ? std::vector<std::string>{"_arrival_date"} : stream.partition_by;
  std::vector<std::string> partition_idents;
  for (const auto& p : partition_by) partition_idents.push_back(SqlIdent(p));
  SLUICE_TRY(
      connection
          ->Execute(fmt::format("CREATE OR REPLACE TEMP TABLE stream_shaped AS SELECT *{}{}{} FROM stream_records",
                                replaced.empty() ? "" : fmt::format(" REPLACE ({})", Join(replaced, ", ")),
                                derived.empty() ? "" : ", ", Join(derived, ", ")))
          .WithContext("stream '{}': columns: of the stream", stream.name));
  SLUICE_ASSIGN_OR_RETURN(auto columns, connection->Describe("SELECT * FROM stream_shaped"));
  for (const auto& p : partition_by) {
    bool found = std::any_of(columns.begin(), columns.end(), [&](const auto& c) { return c.name == p; });
    if (!found) {
      // A partition column no record has: NULL for all, so the records still land (in the NULL partition).
      SLUICE_TRY(connection->Execute(
          fmt::format("CREATE OR REPLACE TEMP TABLE stream_shaped AS SELECT *, NULL::VARCHAR AS {} FROM stream_shaped",
                      SqlIdent(p))));
    }
  }
  SLUICE_ASSIGN_OR_RETURN(columns, connection->Describe("SELECT * FROM stream_shaped"));

  SLUICE_ASSIGN_OR_RETURN(auto policy, pipeline::ParseSchemaChangePolicy(stream.schema_evolution));
  SLUICE_ASSIGN_OR_RETURN(auto decision, pipeline::DecideSchema(existing, columns, partition_by, policy));
  StagedFlush out;
  out.schema = pipeline::WithTableFieldIds(existing, decision.schema);
  out.partition_by = partition_by;
  auto [fitting, unfit] = pipeline::QuarantineSelects("stream_shaped", decision);
  std::string kept = fitting.empty() ? "SELECT * FROM stream_shaped" : fitting;
  std::vector<std::string> rejects;
  if (input.set_aside > 0) rejects.push_back(UnreadableSelect(input, source_file));
  if (!unfit.empty()) rejects.push_back(unfit);

  // A cap on the partitions one flush writes: a field with a runaway number of values (a timestamp used
  // as a partition by mistake) would otherwise write a file per record.
  SLUICE_ASSIGN_OR_RETURN(auto partitions,
                          connection->Query(fmt::format("SELECT count(*) AS n FROM (SELECT DISTINCT {} FROM ({}))",
                                                        Join(partition_idents, ", "), kept)));
  if (partitions.GetInt(0, "n") > stream.max_active_partitions) {
    std::string ranked = fmt::format("(SELECT *, dense_rank() OVER (ORDER BY {}) AS _sluice_partition_rank FROM ({}))",
                                     Join(partition_idents, ", "), kept);
    std::vector<std::string> named;
    for (const auto& p : partition_by) {
      named.push_back(fmt::format("{} || coalesce(CAST({} AS VARCHAR), 'NULL')", SqlQuote(p + "="), SqlIdent(p)));
    }
    std::string why = fmt::format(
        " is over max_active_partitions ({}) of stream {}: one flush writes at most that many "
        "partitions",
        stream.max_active_partitions, stream.name);
    rejects.push_back(fmt::format(
        "SELECT * EXCLUDE (_sluice_partition_rank), 'partition ' || concat_ws('/', {}) || {} AS _reject_reason FROM {} "
        "WHERE _sluice_partition_rank > {}",
        Join(named, ", "), SqlQuote(why), ranked, stream.max_active_partitions));
    kept = fmt::format("SELECT * EXCLUDE (_sluice_partition_rank) FROM {} WHERE _sluice_partition_rank <= {}", ranked,
                       stream.max_active_partitions);
  }

  const storage::TableLayout layout = StreamLayout(stream);
  connectors::LakeWriteRequest write;
  write.select_sql = kept;
  write.staging_dir = staging_dir / "data";
  write.data_prefix = layout.Root();
  write.partition_by = partition_by;
  write.file_prefix = fmt::format("part-{}", run_id);
  write.unordered = true;
  write.field_ids = pipeline::ParquetFieldIds(out.schema);
  SLUICE_ASSIGN_OR_RETURN(out.staged, connectors::WriteParquetToStaging(*connection, write));
  out.rejects = std::make_unique<pipeline::RejectsWriter>(catalog, run_id, staging_dir / "rejects", layout,
                                                          fmt::format("{}.{}", stream.zone, stream.table), now);
  for (size_t i = 0; i < rejects.size(); ++i) {
    SLUICE_TRY(out.rejects->Stage(*connection, rejects[i], fmt::format("rejects-{}", i)).status());
  }
  return out;
}

}  // namespace

std::string StreamStateScope(const std::string& stream) { return "stream/" + stream; }

Result<uint64_t> CommittedSegment(catalog::MetadataStore& catalog, const std::string& stream) {
  SLUICE_ASSIGN_OR_RETURN(auto state, catalog.GetState(StreamStateScope(stream), kSpoolStateKey));
  if (!state) return uint64_t{0};
  auto value = ParseJsonOrDiscarded(*state);
  if (!value.is_object() || !value.contains("segment") || !value["segment"].is_number_unsigned()) {
    return Status::Internal("the catalog's spool state of stream '{}' is unreadable: {}", stream, *state);
  }
  return value["segment"].get<uint64_t>();
}

Result<FlushSummary> FlushSegment(pipeline::Workspace& ws, const config::StreamConfig& stream,
                                  const fs::path& segment_file, uint64_t segment) {
  FlushSummary summary;
  const RunId run_id = FlushRunId(stream.name, segment);
  const std::string table = fmt::format("{}.{}", stream.zone, stream.table);
  const std::string source_file = fmt::format("{}/{}", stream.name, Spool::SegmentName(segment));
  const TimePoint now = ws.clock().Now();
  StagingFolder staging{ws.state_dir() / "staging" / run_id.value};
  std::error_code ec;
  fs::remove_all(staging.path, ec);
  fs::create_directories(staging.path, ec);
  if (ec) return Status::IoError("cannot create the staging folder {}: {}", staging.path.string(), ec.message());

  const catalog::TableName table_name{stream.zone, stream.table};
  SLUICE_ASSIGN_OR_RETURN(auto existing, ws.catalog().GetTable(table_name));
  FieldSpellings spellings;
  if (existing) {
    // A record's own _arrived_at (in any case) is renamed, not matched against sluice's column.
    for (const auto& c : existing->schema.columns) {
      if (!IsSluiceColumn(c.name)) spellings.AddColumn(c.name, c.type);
    }
  }
  SLUICE_ASSIGN_OR_RETURN(FlushInput input, WriteFlushInput(segment_file, staging.path, &spellings));
  summary.records = input.records;

  SLUICE_ASSIGN_OR_RETURN(auto connection, ws.engine().Connect());
  // Whatever DuckDB refuses to take from a record (read, cast, write) sets that record aside, not the flush.
  StagedFlush staged_flush;
  SLUICE_TRY(IsolateUnreadable(&input, [&](const fs::path& lines_file) -> Status {
               auto staged = StageRecords(ws.catalog(), stream, connection.get(), lines_file, input, existing,
                                          staging.path, run_id, source_file, now);
               if (!staged.ok()) return staged.status();
               staged_flush = std::move(*staged);
               return Status::OK();
             }).WithContext("stream '{}': writing spool segment {}", stream.name, source_file));
  auto& staged = staged_flush.staged;
  auto& rejects_writer = *staged_flush.rejects;
  const auto& partition_by = staged_flush.partition_by;
  const catalog::Schema& schema = staged_flush.schema;
  const storage::TableLayout layout = StreamLayout(stream);
  summary.rows_rejected = rejects_writer.rows();
  summary.files_written = static_cast<int64_t>(staged.size() + rejects_writer.files().size());
  SLUICE_FAULT_POINT("stream_flush_staged");

  catalog::CommitRequest commit;
  commit.run_id = run_id;
  commit.pipeline = FlushRunPipeline(stream.name);
  commit.job = stream.name;
  if (!staged.empty()) {
    catalog::TableChange change;
    change.table = table_name;
    change.location = layout.Root();
    change.source = fmt::format("stream {} (POST /api/v1/streams/{}/records)", stream.name, stream.name);
    change.partition_columns = partition_by;
    change.schema = schema;
    for (const auto& f : staged) {
      change.added.push_back({f.key, f.rows, f.bytes, f.partition_values, 0, f.column_stats});
      summary.rows_written += f.rows;
      summary.bytes_written += f.bytes;
    }
    commit.tables.push_back(std::move(change));
  }
  SLUICE_TRY(rejects_writer.AddToCommit(&commit));
  commit.state.push_back({StreamStateScope(stream.name), kSpoolStateKey,
                          nlohmann::json{{"segment", segment}, {"records", summary.records}}.dump()});

  std::vector<connectors::StagedFile> uploads = staged;
  uploads.insert(uploads.end(), rejects_writer.files().begin(), rejects_writer.files().end());
  Status uploaded = connectors::UploadStaged(ws.lake(), uploads);
  if (!uploaded.ok()) {
    connectors::DiscardUploaded(ws.lake(), uploads);
    return uploaded.WithContext("stream '{}': uploading the flush of {}", stream.name, source_file);
  }
  auto committed = ws.catalog().Commit(commit);
  if (!committed.ok()) {
    connectors::DiscardUploaded(ws.lake(), uploads);
    return committed.status().WithContext("stream '{}': committing the flush of {}", stream.name, source_file);
  }
  if (!committed->versions.empty() && !staged.empty()) summary.table_version = committed->versions.front();
  return summary;
}

}  // namespace sluice::streams
