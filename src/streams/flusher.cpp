#include "streams/flusher.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <fstream>

#include "common/fault_point.hpp"
#include "common/json_limits.hpp"
#include "common/strings.hpp"
#include "connectors/sinks/lake/lake_sink.hpp"
#include "pipeline/rejects_writer.hpp"
#include "pipeline/schema_evolution.hpp"
#include "storage/lake_layout.hpp"
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

/// The segment's records as JSON lines {"t": arrival µs, "r": record}: the record stays one value, so its
/// fields can never collide with the arrival time.
Result<int64_t> WriteJsonLines(const fs::path& segment_file, const fs::path& out_file) {
  std::ofstream out(out_file, std::ios::binary);
  if (!out) return Status::IoError("cannot write {}", out_file.string());
  int64_t records = 0;
  SLUICE_TRY(ReadSegment(segment_file, [&](FrameKind kind, TimePoint arrival, std::string_view payload) -> Status {
               if (kind != FrameKind::kRecord) return Status::OK();
               out << "{\"t\":" << ToUnixMicros(arrival) << ",\"r\":" << payload << "}\n";
               ++records;
               return Status::OK();
             }).status());
  out.close();
  if (!out) return Status::IoError("cannot write {}; check the disk's free space", out_file.string());
  return records;
}

storage::TableLayout StreamLayout(const config::StreamConfig& stream) {
  return storage::TableLayout{stream.zone, stream.zone == "raw" ? "streams" : "", stream.table};
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
  const std::string run_id = fmt::format("stream-{}-{}", stream.name, segment);
  const std::string table = fmt::format("{}.{}", stream.zone, stream.table);
  const std::string source_file = fmt::format("{}/{}", stream.name, Spool::SegmentName(segment));
  const TimePoint now = ws.clock().Now();
  StagingFolder staging{ws.state_dir() / "staging" / run_id};
  std::error_code ec;
  fs::remove_all(staging.path, ec);
  fs::create_directories(staging.path, ec);
  if (ec) return Status::IoError("cannot create the staging folder {}: {}", staging.path.string(), ec.message());

  fs::path lines = staging.path / "records.ndjson";
  SLUICE_ASSIGN_OR_RETURN(summary.records, WriteJsonLines(segment_file, lines));

  SLUICE_ASSIGN_OR_RETURN(auto connection, ws.engine().Connect());
  // Every record is a JSON object (checked on arrival); the whole file is sampled so a field seen once
  // still gets its column, and a field whose type varies gets a type that holds every value.
  SLUICE_TRY(connection
                 ->Execute(fmt::format("CREATE OR REPLACE TEMP TABLE stream_lines AS SELECT * FROM read_json({}, "
                                       "format = 'newline_delimited', records = true, sample_size = -1, "
                                       "maximum_depth = -1)",
                                       SqlQuote(lines.string())))
                 .WithContext("stream '{}': reading spool segment {}", stream.name, source_file));
  SLUICE_ASSIGN_OR_RETURN(auto read_columns, connection->Describe("SELECT * FROM stream_lines"));
  bool has_fields = false;
  for (const auto& c : read_columns) has_fields |= c.name == "r" && StartsWith(c.type, "STRUCT");
  std::string fields = has_fields ? "r.*, " : "";
  SLUICE_TRY(connection->Execute(fmt::format(
      "CREATE OR REPLACE TEMP VIEW stream_records AS SELECT {}make_timestamp(t) AS _arrived_at, "
      "CAST(make_timestamp(t) AS DATE) AS _arrival_date, {} AS _source_file FROM stream_lines",
      fields, SqlQuote(source_file))));

  // Derived columns: an expression that fails on a record gives NULL for that record (TRY) rather than
  // stopping the stream; one that cannot be bound at all (a field no record has) is NULL with a warning.
  std::vector<std::string> derived;
  for (const auto& [name, expression] : stream.columns) {
    std::string candidate = fmt::format("TRY({}) AS {}", expression, SqlIdent(name));
    auto bound = connection->Describe(fmt::format("SELECT {} FROM stream_records", candidate));
    if (!bound.ok()) {
      spdlog::warn("stream '{}': column {} = {} cannot be computed over spool segment {}: {}; it is NULL there",
                   stream.name, name, expression, source_file, bound.status().message());
      candidate = fmt::format("NULL AS {}", SqlIdent(name));
    }
    derived.push_back(candidate);
  }
  std::vector<std::string> partition_by = stream.partition_by.empty() ? std::vector<std::string>{"_arrival_date"}
                                                                      : stream.partition_by;
  std::vector<std::string> partition_idents;
  for (const auto& p : partition_by) partition_idents.push_back(SqlIdent(p));
  SLUICE_TRY(connection
                 ->Execute(fmt::format("CREATE OR REPLACE TEMP TABLE stream_shaped AS SELECT *{}{} FROM stream_records",
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

  const catalog::TableName table_name{stream.zone, stream.table};
  SLUICE_ASSIGN_OR_RETURN(auto existing, ws.catalog().GetTable(table_name));
  SLUICE_ASSIGN_OR_RETURN(auto policy, pipeline::ParseSchemaChangePolicy(stream.schema_evolution));
  SLUICE_ASSIGN_OR_RETURN(auto decision, pipeline::DecideSchema(existing, columns, partition_by, policy));
  catalog::Schema schema = pipeline::WithTableFieldIds(existing, decision.schema);
  auto [fitting, unfit] = pipeline::QuarantineSelects("stream_shaped", decision);
  std::string kept = fitting.empty() ? "SELECT * FROM stream_shaped" : fitting;
  std::vector<std::string> rejects;
  if (!unfit.empty()) rejects.push_back(unfit);

  // A cap on the partitions one flush writes: a field with a runaway number of values (a timestamp used
  // as a partition by mistake) would otherwise write a file per record.
  SLUICE_ASSIGN_OR_RETURN(auto partitions,
                          connection->Query(fmt::format("SELECT count(*) AS n FROM (SELECT DISTINCT {} FROM ({}))",
                                                        Join(partition_idents, ", "), kept)));
  if (partitions.GetInt(0, "n") > stream.max_active_partitions) {
    std::string ranked = fmt::format("(SELECT *, dense_rank() OVER (ORDER BY {}) AS _partition_rank FROM ({}))",
                                     Join(partition_idents, ", "), kept);
    std::vector<std::string> named;
    for (const auto& p : partition_by) {
      named.push_back(fmt::format("{} || coalesce(CAST({} AS VARCHAR), 'NULL')", SqlQuote(p + "="), SqlIdent(p)));
    }
    std::string why = fmt::format(" is over max_active_partitions ({}) of stream {}: one flush writes at most that many "
                                  "partitions",
                                  stream.max_active_partitions, stream.name);
    rejects.push_back(fmt::format(
        "SELECT * EXCLUDE (_partition_rank), 'partition ' || concat_ws('/', {}) || {} AS _reject_reason FROM {} "
        "WHERE _partition_rank > {}",
        Join(named, ", "), SqlQuote(why), ranked, stream.max_active_partitions));
    kept = fmt::format("SELECT * EXCLUDE (_partition_rank) FROM {} WHERE _partition_rank <= {}", ranked,
                       stream.max_active_partitions);
  }

  const storage::TableLayout layout = StreamLayout(stream);
  connectors::LakeWriteRequest write;
  write.select_sql = kept;
  write.staging_dir = staging.path / "data";
  write.data_prefix = layout.Root();
  write.partition_by = partition_by;
  write.file_prefix = fmt::format("part-{}", run_id);
  write.unordered = true;
  write.field_ids = pipeline::ParquetFieldIds(schema);
  SLUICE_ASSIGN_OR_RETURN(auto staged, connectors::WriteParquetToStaging(*connection, write));
  pipeline::RejectsWriter rejects_writer(ws.catalog(), run_id, staging.path / "rejects", layout, table, now);
  for (size_t i = 0; i < rejects.size(); ++i) {
    SLUICE_TRY(rejects_writer.Stage(*connection, rejects[i], fmt::format("rejects-{}", i)).status());
  }
  summary.rows_rejected = rejects_writer.rows();
  SLUICE_FAULT_POINT("stream_flush_staged");

  catalog::CommitRequest commit;
  commit.run_id = RunId{run_id};
  commit.pipeline = "streams";
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
