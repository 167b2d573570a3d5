#include "common/strings.hpp"
#include "connectors/sources/postgres/postgres_reader.hpp"

namespace sluice::connectors::pg_source {
namespace {

/// mode: incremental: the rows past the stored watermark by one COPY; the watermark follows the
/// largest cursor value read.
class IncrementalReader final : public PostgresReader {
 public:
  using PostgresReader::PostgresReader;

  Checkpoint NewCheckpoint() const override {
    Checkpoint checkpoint;
    checkpoint.state_json = StateJson(s_.state);
    return checkpoint;
  }

 private:
  Status BatchRead(engine::Connection& connection, const std::string& relation) override {
    if (s_.cursor_kind && copy_->batch_rows() > 0) return AdvanceWatermark(connection, relation);
    return Status::OK();
  }

  /// The watermark becomes the largest cursor value seen so far (never lower than the stored one),
  /// computed by DuckDB in the cursor's own type so that text ordering never decides.
  Status AdvanceWatermark(engine::Connection& connection, const std::string& relation) {
    const postgres::PgColumn* cursor = nullptr;
    for (const auto& c : s_.columns) {
      if (c.name == options_.cursor) cursor = &c;
    }
    if (cursor == nullptr) return Status::Internal("postgres source: cursor column '{}' is not read", options_.cursor);
    std::string type = engine::DuckDbTypeName(cursor->target);
    std::string sql = fmt::format("SELECT CAST(max(v) AS VARCHAR) AS m FROM (SELECT max({}) AS v FROM {}",
                                  SqlIdent(cursor->name), SqlIdent(relation));
    if (s_.state.watermark) sql += fmt::format(" UNION ALL SELECT CAST({} AS {})", SqlQuote(*s_.state.watermark), type);
    sql += ")";
    SLUICE_ASSIGN_OR_RETURN(auto result, connection.Query(sql));
    if (!result.rows.empty() && !result.rows[0].empty() && result.rows[0][0]) s_.state.watermark = *result.rows[0][0];
    return Status::OK();
  }
};

}  // namespace

std::unique_ptr<SourceReader> MakeIncrementalReader(PostgresOptions options, ReadPlan plan) {
  return std::make_unique<IncrementalReader>(std::move(options), std::move(plan));
}

}  // namespace sluice::connectors::pg_source
