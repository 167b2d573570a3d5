#include "connectors/sources/postgres/postgres_source.hpp"
#include "connectors/sources/postgres/cdc_source.hpp"

#include "connectors/sources/postgres/postgres_options.hpp"
#include "connectors/sources/postgres/postgres_planner.hpp"
#include "connectors/sources/postgres/postgres_reader.hpp"

// The source in files of one job each: postgres_options (the options, typed), postgres_planner
// (what Open() finds out before reading), postgres_reader (what the read strategies share) and
// one reader per load mode (postgres_full_reader, _incremental_, _changes_, _window_).

namespace sluice::connectors {
namespace {

using pg_source::LoadMode;
using pg_source::PostgresOptions;

class PostgresSource final : public Source {
 public:
  PostgresSource(PostgresOptions options, SourcePlan plan) : options_(std::move(options)), plan_(std::move(plan)) {}

  const SourcePlan& plan() const override { return plan_; }

  Result<std::unique_ptr<SourceReader>> Open(const Checkpoint& checkpoint, const RunContext& context) override {
    SLUICE_ASSIGN_OR_RETURN(auto read, pg_source::PlanRead(options_, checkpoint, context));
    switch (options_.mode) {
      case LoadMode::kFull: return pg_source::MakeFullReader(options_, std::move(read));
      case LoadMode::kIncremental: return pg_source::MakeIncrementalReader(options_, std::move(read));
      case LoadMode::kChanges: return pg_source::MakeChangesReader(options_, std::move(read));
      case LoadMode::kWindow: return pg_source::MakeWindowReader(options_, std::move(read));
    }
    return Status::Internal("postgres source: no reader for this load mode");
  }

 private:
  PostgresOptions options_;
  SourcePlan plan_;
};

}  // namespace

SourceDescriptor PostgresSourceDescriptor() {
  using config::OptionType;
  SourceDescriptor d;
  d.name = "postgres";
  d.description = "A PostgreSQL table or query, read with binary COPY in batches: full copies, incremental by a cursor column, "
                  "changed rows (mode: changes) or windows read over parallel partitions (mode: window)";
  d.options = {
      {"url", OptionType::kString, "", true, false, "postgresql://user@host:port/database (no password in it)"},
      {"password", OptionType::kString, "", false, true, "the user's password (omit when the server trusts the user)"},
      {"table", OptionType::kString, "", false, false, "schema.table (or table, in schema public) to read; or use query:"},
      {"tables", OptionType::kStringList, "", false, false,
       "mode: cdc: the tables to follow, each into the lake table of its name (or table: for one)"},
      {"query", OptionType::kString, "", false, false, "a SELECT whose rows to read, instead of table:"},
      {"columns", OptionType::kStringList, "", false, false, "only these columns, in this order; omitted = all"},
      {"cursor", OptionType::kString, "", false, false,
       "mode: incremental: the timestamp, date or integer column that grows when a row is added or changed"},
      {"lookback", OptionType::kString, "", false, false,
       "mode: incremental: re-read this much below the watermark (a duration such as 10m for time cursors, a number "
       "for integer cursors)"},
      {"batch_rows", OptionType::kInt, "500000", false, false,
       "rows per part handed to the lake when rows are held in batches (bounds memory), and per chunk of a resumable "
       "full load (per connection when it is streamed over several; a streamed load is bounded by the engine's row "
       "groups)"},
      {"cast_unsupported_to_text", OptionType::kBool, "false", false, false,
       "read columns of unsupported types (inet, ranges, …) as text instead of failing"},
      {"resumable", OptionType::kBool, "true", false, false,
       "mode: full of a table: read it in chunks of batch_rows rows in key order, so that an interrupted load resumes "
       "from its last completed chunk (needs a single-column integer primary key, or chunk_by)"},
      {"read_connections", OptionType::kInt, "2", false, false,
       "mode: full of a table: connections that read it side by side in one snapshot, each decoded and written by its "
       "own engine thread (by ranges of the chunk key, or of physical blocks on PostgreSQL 14+); more than the engine's "
       "threads gains nothing; 1 reads with one"},
      {"server_side_hash", OptionType::kBool, "true", false, false,
       "mode: changes: PostgreSQL hashes the rows (14 or later) and only changed rows are transferred; false = every "
       "row is transferred and hashed by sluice"},
      {"chunk_by", OptionType::kString, "", false, false,
       "mode: full: the unique (uniquely indexed) integer NOT NULL column whose order the chunks follow; omitted = the "
       "primary key"},
      {"connect_timeout", OptionType::kDuration, "10s", false, false, "give up connecting after this long"},
      {"connect_retries", OptionType::kInt, "2", false, false,
       "retry a connection that failed for a transient reason (refused, too many clients, starting up) this many times"},
      {"sslmode", OptionType::kString, "", false, false,
       "disable | allow | prefer | require | verify-ca | verify-full; omitted = what the URL says (libpq default prefer)"},
  };
  d.bind = [](const BindContext& context, const config::Value& options) -> Result<std::unique_ptr<Source>> {
    if (context.job_config != nullptr && context.job_config->mode == config::LoadMode::kCdc)
      return BindPostgresCdc(context, options);
    if (const auto* tables = options.Find("tables"); tables != nullptr && !tables->IsNull()) {
      return Status::Invalid("{}: tables: is for mode: cdc; other modes read one table: (one job per table)",
                             tables->location().ToString());
    }
    SLUICE_ASSIGN_OR_RETURN(auto parsed, pg_source::ParseOptions(context, options));
    SourcePlan plan;
    plan.connector = "postgres";
    plan.origin = context.connection_name.empty() ? "postgres" : context.connection_name;
    bool incremental = parsed.mode == LoadMode::kIncremental;
    plan.description = incremental ? fmt::format("PostgreSQL {}, rows with a newer {}", parsed.What(), parsed.cursor)
                                   : fmt::format("PostgreSQL {}, all rows", parsed.What());
    if (parsed.mode == LoadMode::kWindow) {
      plan.description = fmt::format("PostgreSQL {}, the next window of {}", parsed.What(), parsed.window.column);
    }
    if (parsed.mode == LoadMode::kChanges) {
      plan.description = fmt::format("PostgreSQL {}, rows changed since the last run", parsed.What());
    }
    // Change loads append inserts/updates/deletes under …/incremental/ like cursor loads.
    plan.is_incremental = parsed.mode != LoadMode::kFull;
    plan.snapshot = parsed.mode == LoadMode::kFull;
    return std::unique_ptr<Source>(std::make_unique<PostgresSource>(std::move(parsed), plan));
  };
  return d;
}

}  // namespace sluice::connectors
