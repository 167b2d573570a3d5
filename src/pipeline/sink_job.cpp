#include "pipeline/sink_job.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "common/fault_point.hpp"
#include "common/strings.hpp"
#include "pipeline/catalog_input.hpp"
#include "pipeline/rejects_writer.hpp"
#include "pipeline/transform_chain.hpp"
#include "storage/lake_layout.hpp"

namespace sluice::pipeline {
namespace fs = std::filesystem;
namespace {

/// Target keys every sink accepts; the runner reads them, the sink never sees them.
const std::vector<std::string> kRunnerTargetKeys = {"type", "connection", "add_metadata_columns"};

/// The job state a sink load takes the catalog to, as the sink stores it with the rows.
std::string StateJson(const connectors::Checkpoint& checkpoint) {
  nlohmann::json consumed = nlohmann::json::array();
  for (const auto& c : checkpoint.consumed) {
    consumed.push_back(
        {{"path", c.path}, {"size", c.size}, {"mtime_us", c.mtime_us}, {"content_hash", c.content_hash}});
  }
  return nlohmann::json{{"consumed", consumed}, {"source_state", checkpoint.state_json}}.dump();
}

Result<connectors::Checkpoint> ParseStateJson(const std::string& text) {
  connectors::Checkpoint checkpoint;
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return Status::DataError("the load record's state is not JSON");
  try {
    for (const auto& c : json.value("consumed", nlohmann::json::array())) {
      checkpoint.consumed.push_back({c.at("path").get<std::string>(), c.at("size").get<int64_t>(),
                                     c.at("mtime_us").get<int64_t>(), c.value("content_hash", "")});
    }
    checkpoint.state_json = json.value("source_state", "{}");
  } catch (const nlohmann::json::exception& e) {
    return Status::DataError("the load record's state is malformed: {}", e.what());
  }
  return checkpoint;
}

class SinkJobExecution {
 public:
  SinkJobExecution(JobRunContext& context, const config::JobConfig& job)
      : ctx_(context), job_(job), ws_(context.workspace) {
    summary_.job = job.name;
    summary_.table = JobTargetLabel(job);
  }

  JobSummary Run() {
    return TimedJob(
        ctx_, job_, &summary_, [this] { return Execute(); }, &uploaded_);
  }

 private:
  Status Execute() {
    SLUICE_FAULT_POINT("job_started");
    if (ReadsCatalogTables(job_)) {
      return Status::Invalid(
          "{}: job '{}' reads lake tables (source: table:) into a target outside the lake, which "
          "sluice cannot do yet; read the table's database or files with a connector instead",
          job_.location.ToString(), job_.name);
    }
    SLUICE_ASSIGN_OR_RETURN(chain_, TransformChain::Build(job_, ctx_.pipeline.name));
    SLUICE_ASSIGN_OR_RETURN(auto source, BindJobSource(ws_, ctx_.pipeline, job_));
    SLUICE_ASSIGN_OR_RETURN(auto resolved, ResolveSink(ws_, ctx_.pipeline, job_));
    SLUICE_ASSIGN_OR_RETURN(sink_, BindResolvedSink(ws_.project(), ctx_.pipeline, job_, resolved));
    summary_.table = sink_->plan().target;
    scope_ = JobStateScope(ctx_.pipeline.name, job_.name);
    scratch_ = ws_.state_dir() / "staging" / ctx_.run_id.value / job_.name;
    loaded_at_ = ws_.clock().Now();
    if (sink_->plan().records_loads && !ctx_.full_refresh) SLUICE_TRY(AdoptUnrecordedLoad());

    connectors::Checkpoint checkpoint;
    if (!ctx_.full_refresh) {
      SLUICE_ASSIGN_OR_RETURN(checkpoint, LoadCheckpoint(ws_.catalog(), scope_));
    }
    bool single_scan = job_.steps.IsNull();
    connectors::RunContext run_context{ws_.clock(), scratch_ / "work", ctx_.run_id, single_scan};
    std::error_code ec;
    fs::create_directories(run_context.work_dir, ec);
    if (ec) return Status::IoError("cannot create '{}': {}", run_context.work_dir.string(), ec.message());
    SLUICE_ASSIGN_OR_RETURN(auto reader, source->Open(checkpoint, run_context));
    const auto& plan = source->plan();
    if (ctx_.listener) ctx_.listener->OnJobStart(job_.name, reader->PendingSummary());
    if (reader->NothingToRead()) return NoNewInput(&summary_, plan.description);
    if (const auto* windowed = reader->windowed()) summary_.window = windowed->Window();

    SLUICE_ASSIGN_OR_RETURN(auto connection, ws_.engine().Connect());
    ScopedInterruptAttach interruptible(ctx_.interrupt, *connection);
    SLUICE_TRY(Interrupted(ctx_.interrupt));
    // Rows set aside go to the lake beside where a raw load of this source would be.
    rejects_.emplace(ws_.catalog(), ctx_.run_id, scratch_ / "rejects",
                     storage::TableLayout{"raw", plan.origin, job_.target.table}, sink_->plan().target, loaded_at_);
    connectors::SinkRunContext sink_context{ws_.clock(), scratch_ / "sink", ctx_.run_id};
    fs::create_directories(sink_context.work_dir, ec);
    SLUICE_ASSIGN_OR_RETURN(auto writer, sink_->Open(sink_context));
    // A timeout or cancellation also stops what the target is doing (a COPY, a lock wait), not only
    // the engine. Detached before the writer is destroyed (declared after it, so it goes first).
    if (ctx_.interrupt != nullptr) ctx_.interrupt->Attach([target = writer.get()] { target->Interrupt(); });
    struct DetachWriter {
      JobInterrupt* interrupt;
      ~DetachWriter() {
        if (interrupt != nullptr) interrupt->Attach(std::function<void()>());
      }
    } detach_writer{ctx_.interrupt};

    std::string relation = "source_" + job_.name;
    for (int part = 0;; ++part) {
      SLUICE_TRY(Interrupted(ctx_.interrupt));
      SLUICE_ASSIGN_OR_RETURN(auto read_state, reader->Read(*connection, relation));
      Status written = WritePart(*connection, *writer, relation, part, resolved.metadata_columns);
      SLUICE_ASSIGN_OR_RETURN(auto after_part, reader->PartConsumed(written));
      SLUICE_FAULT_POINT("sink_part_written");
      if (after_part == connectors::ReadState::kFinished || read_state == connectors::ReadState::kFinished) break;
    }
    SLUICE_TRY(rejects_->SetAsideUnreadable(*connection, *reader, job_.on_error));
    summary_.rows_rejected = rejects_->rows();
    summary_.rows_read = summary_.rows_written + summary_.rows_rejected;

    // Rows set aside are uploaded before the target commits, so the catalog commit after it only records.
    uploaded_ = rejects_->files();
    SLUICE_TRY(connectors::UploadStaged(ws_.lake(), uploaded_));
    connectors::Checkpoint reached = reader->NewCheckpoint();
    SLUICE_TRY(Interrupted(ctx_.interrupt));  // the last moment a timeout or cancellation leaves the target untouched
    SLUICE_TRY(writer->Commit(connectors::LoadRecord{scope_, ctx_.run_id, StateJson(reached), summary_.rows_written}));
    summary_.bytes_written = writer->BytesWritten();  // some sinks produce their output only when committing
    SLUICE_FAULT_POINT("sink_committed");

    catalog::CommitRequest commit = NewCommit();
    AddState(reached, &commit);
    SLUICE_TRY(rejects_->AddToCommit(&commit));
    if (ctx_.full_refresh) commit.forget_loaded_scopes.push_back(scope_);
    Status committed = ws_.catalog().Commit(commit).status();
    uploaded_.clear();  // the target holds the load now: the next run adopts it if the catalog missed it
    if (!committed.ok()) {
      return committed.WithContext(
          "the rows are committed to {}, but recording the job's state failed (the next run "
          "records it without loading the rows again)",
          sink_->plan().target);
    }
    summary_.status = JobStatus::kSucceeded;
    summary_.message = fmt::format("{} rows written to {}", summary_.rows_written, sink_->plan().target);
    if (summary_.rows_rejected > 0) {
      summary_.message +=
          fmt::format("; {} rows set aside in raw.{}__rejects", summary_.rows_rejected, job_.target.table);
    }
    return Status::OK();
  }

  /// Steps → rows set aside → the sink, for one part of the input.
  Status WritePart(engine::Connection& connection, connectors::SinkWriter& writer, const std::string& relation,
                   int part, bool metadata_columns) {
    transforms::StepContext step_context{connection, ctx_.run_id, loaded_at_, summary_.table, true, Secret("")};
    std::vector<std::string> rejects;
    SLUICE_ASSIGN_OR_RETURN(auto shaped,
                            chain_.Apply(step_context, relation, fmt::format("step_{}_{}", job_.name, part), &rejects));
    SLUICE_ASSIGN_OR_RETURN(auto columns, connection.Describe("SELECT * FROM " + shaped));
    bool has_source_file = false;
    for (const auto& c : columns) has_source_file |= c.name == "_source_file";
    std::string output = fmt::format("sink_{}_{}", job_.name, part);  // the sink quotes it
    std::string select =
        metadata_columns ? fmt::format("SELECT *, {} AS _loaded_at FROM {}", SqlTimestampLiteral(loaded_at_), shaped)
                         : fmt::format("SELECT *{} FROM {}", has_source_file ? " EXCLUDE (_source_file)" : "", shaped);
    SLUICE_TRY(connection.Execute(fmt::format("CREATE OR REPLACE TEMP VIEW {} AS {}", SqlIdent(output), select)));
    SLUICE_ASSIGN_OR_RETURN(int64_t written, writer.Write(connection, output));
    summary_.rows_written += written;
    int n = 0;
    for (const auto& set_aside : rejects) {
      SLUICE_TRY(rejects_->Stage(connection, set_aside, fmt::format("{}-{}", part, n++)).status());
    }
    return Status::OK();
  }

  /// A crash after the target committed a load but before the catalog did: the catalog takes the
  /// state the target recorded, so this run does not load the same input again.
  Status AdoptUnrecordedLoad() {
    SLUICE_ASSIGN_OR_RETURN(auto last, sink_->LastLoad(scope_));
    if (!last) return Status::OK();
    SLUICE_ASSIGN_OR_RETURN(auto recorded, ws_.catalog().GetState(scope_, kSinkLoadKey));
    if (recorded && *recorded == last->load_id.value) return Status::OK();
    SLUICE_ASSIGN_OR_RETURN(auto reached, ParseStateJson(last->state_json));
    catalog::CommitRequest commit = NewCommit();
    commit.run_id = last->load_id;
    AddState(reached, &commit, last->load_id);
    SLUICE_TRY(ws_.catalog().Commit(commit).status());
    spdlog::warn(
        "job '{}': run {} committed {} rows to {} but not its state to the catalog; recorded it now, so its "
        "input is not loaded again",
        job_.name, last->load_id, last->rows, sink_->plan().target);
    return Status::OK();
  }

  /// `load_id`: the run whose load the state records (nullopt = this run).
  void AddState(const connectors::Checkpoint& reached, catalog::CommitRequest* commit,
                const std::optional<RunId>& load_id = std::nullopt) {
    for (const auto& c : reached.consumed) {
      commit->loaded_files.push_back({scope_, c.path, c.size, c.mtime_us, c.content_hash});
    }
    if (reached.state_json != "{}") commit->state.push_back({scope_, kSourceStateKey, reached.state_json});
    commit->state.push_back({scope_, kSinkLoadKey, load_id.value_or(ctx_.run_id).value});
  }

  catalog::CommitRequest NewCommit() const { return NewJobCommit(ctx_, job_); }

  JobRunContext& ctx_;
  const config::JobConfig& job_;
  Workspace& ws_;
  JobSummary summary_;
  TransformChain chain_;
  std::unique_ptr<connectors::Sink> sink_;
  std::string scope_;
  fs::path scratch_;
  TimePoint loaded_at_;
  std::optional<RejectsWriter> rejects_;
  std::vector<connectors::StagedFile> uploaded_;
};

}  // namespace

Result<ResolvedSink> ResolveSink(const Workspace& workspace, const config::PipelineConfig& pipeline,
                                 const config::JobConfig& job) {
  const auto& target = job.target.raw;
  std::string where =
      fmt::format("{}: target of job '{}' in pipeline '{}'", target.location().ToString(), job.name, pipeline.name);
  ResolvedSink resolved;
  std::string type = job.target.type;
  std::vector<std::pair<std::string, config::Value>> entries;
  const config::Value* connection = nullptr;
  if (!job.target.connection.empty()) {
    resolved.connection_name = job.target.connection;
    SLUICE_ASSIGN_OR_RETURN(connection, FindConnection(workspace.project(), resolved.connection_name, where));
    SLUICE_ASSIGN_OR_RETURN(type, connection->Find("type")->AsString());
  }
  resolved.descriptor = workspace.sinks().Find(type);
  if (resolved.descriptor == nullptr) {
    std::string hint = NearestWord(type, workspace.sinks().Names());
    return Status::Invalid("{}: there is no sink for '{}'{}; targets outside the lake: {}", where, type,
                           hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint),
                           Join(workspace.sinks().Names(), ", "));
  }
  if (connection != nullptr) {
    // The connection may also carry keys only its source reads; the sink takes the ones it knows.
    for (const auto& [k, v] : connection->entries()) {
      bool known = std::any_of(resolved.descriptor->options.begin(), resolved.descriptor->options.end(),
                               [&k = k](const auto& spec) { return spec.key == k; });
      if (k != "type" && known) entries.emplace_back(k, v);
    }
  }
  for (const auto& [k, v] : target.entries()) {
    if (std::find(kRunnerTargetKeys.begin(), kRunnerTargetKeys.end(), k) != kRunnerTargetKeys.end()) continue;
    auto same = std::find_if(entries.begin(), entries.end(), [&k = k](const auto& e) { return e.first == k; });
    if (same != entries.end()) {
      same->second = v;
    } else {
      entries.emplace_back(k, v);
    }
  }
  if (const auto* add = target.Find("add_metadata_columns")) {
    SLUICE_ASSIGN_OR_RETURN(resolved.metadata_columns, add->AsBool());
  }
  resolved.options = config::Value::Map(std::move(entries), target.location(), target.path());
  return resolved;
}

Result<std::unique_ptr<connectors::Sink>> BindJobSink(const Workspace& workspace,
                                                      const config::PipelineConfig& pipeline,
                                                      const config::JobConfig& job) {
  SLUICE_ASSIGN_OR_RETURN(auto resolved, ResolveSink(workspace, pipeline, job));
  return BindResolvedSink(workspace.project(), pipeline, job, resolved);
}

Result<std::unique_ptr<connectors::Sink>> BindResolvedSink(const config::ProjectConfig& project,
                                                           const config::PipelineConfig& pipeline,
                                                           const config::JobConfig& job, const ResolvedSink& resolved) {
  connectors::SinkBindContext context{project,         pipeline.name,
                                      job.name,        resolved.connection_name,
                                      job.primary_key, job.deletes == config::DeleteHandling::kApply};
  return connectors::BindSink(*resolved.descriptor, context, resolved.options);
}

JobSummary RunSinkJob(JobRunContext& context, const config::JobConfig& job) {
  return SinkJobExecution(context, job).Run();
}

}  // namespace sluice::pipeline
