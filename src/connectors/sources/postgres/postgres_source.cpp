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
  SourceDescriptor d;
  d.name = "postgres";
  d.description =
      "A PostgreSQL table or query, read with binary COPY in batches: full copies, incremental by a cursor column, "
      "changed rows (mode: changes) or windows read over parallel partitions (mode: window)";
  d.options = pg_source::PostgresSourceOptionSpecs();

  d.bind = [](const BindContext& context, const config::Value& options) -> Result<std::unique_ptr<Source>> {
    if (context.request.mode == config::LoadMode::kCdc) return BindPostgresCdc(context, options);
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
