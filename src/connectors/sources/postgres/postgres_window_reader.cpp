#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/strings.hpp"
#include "connectors/sources/postgres/postgres_reader.hpp"

namespace sluice::connectors::pg_source {
namespace {

constexpr size_t kWindowHistoryKept = 200;

/// mode: window: the rows of the current window, one COPY per partition side by side (or streams
/// when the pipeline reads each part once); the checkpoint moves the window on.
class WindowReader final : public PostgresReader, public WindowedRead {
 public:
  using PostgresReader::PostgresReader;

  Result<ReadState> Read(engine::Connection& connection, const std::string& relation) override {
    if (s_.stream_parts) return StreamPart(connection, relation);
    if (!s_.window.partition_sqls.empty()) return ReadPartitions(connection, relation);
    return ReadCopy(connection, relation);
  }

  const WindowedRead* windowed() const override { return this; }
  std::optional<WindowBounds> Window() const override {
    if (s_.nothing_to_read) return std::nullopt;
    return WindowBounds{options_.window.column, s_.window.start, s_.window.stop};
  }

  Checkpoint NewCheckpoint() const override {
    Checkpoint checkpoint;
    // The window moves on only through the commit that publishes its rows.
    SourceState next = s_.state;
    next.window.start = s_.window.next_start;
    next.window.stop = s_.window.next_stop;
    uint64_t rows = streamed_rows_;
    for (const auto& p : partitions_) rows += p->rows();
    auto history = nlohmann::json::parse(s_.state.window.history_json, nullptr, false);
    if (!history.is_array()) history = nlohmann::json::array();
    history.push_back({{"start", s_.window.start},
                       {"stop", s_.window.stop},
                       {"rows", rows},
                       {"partitions", s_.window.partition_sqls.size()},
                       {"run_id", s_.window.run_id}});
    while (history.size() > kWindowHistoryKept) history.erase(history.begin());
    next.window.history_json = history.dump();
    checkpoint.state_json = StateJson(next);
    return checkpoint;
  }

 private:
  /// Read once by the pipeline: the partitions side by side, each on its own connection, as one
  /// RowStream.
  Result<ReadState> StreamPart(engine::Connection& connection, const std::string& relation) {
    std::vector<std::string> queries = s_.window.partition_sqls;
    if (queries.empty()) queries = {s_.read_sql};
    SLUICE_TRY(StartStream(connection, relation, queries, s_.window.partition_clients));
    return ReadState::kFinished;
  }

  /// mode: window: one COPY per partition runs concurrently on its own connection; each Read()
  /// takes the next batch of every partition still going and shows them as one relation.
  Result<ReadState> ReadPartitions(engine::Connection& connection, const std::string& relation) {
    size_t n = s_.window.partition_sqls.size();
    if (partitions_.empty()) {
      for (size_t i = 0; i < n; ++i) {
        postgres::CopyReaderOptions copy;
        copy.query = s_.window.partition_sqls[i];
        copy.columns = s_.columns;
        copy.table = fmt::format("{}_partition_{}", relation, i);
        copy.temporary = true;
        postgres::PgClient& client = i == 0 ? *s_.client : *s_.window.partition_clients[i - 1];
        auto started = postgres::PgCopyReader::Start(client, connection, std::move(copy));
        if (!started.ok())
          return started.status().WithContext("reading partition {} of {} of {}", i + 1, n, options_.What());
        partitions_.push_back(std::move(*started));
      }
      partition_done_.assign(n, false);
    }
    size_t per_partition = static_cast<size_t>(std::max<int64_t>(1, options_.batch_rows / static_cast<int64_t>(n)));
    std::vector<std::string> parts;
    for (size_t i = 0; i < n; ++i) {
      if (partition_done_[i]) continue;
      auto more = partitions_[i]->ReadBatch(per_partition);
      if (!more.ok()) {
        return more.status().WithContext("reading partition {} of {} of {} from PostgreSQL {} (window {} .. {})", i + 1,
                                         n, options_.What(), s_.client->endpoint(), s_.window.start, s_.window.stop);
      }
      partition_done_[i] = !*more;
      parts.push_back("SELECT * FROM " + SqlIdent(partitions_[i]->table()));
    }
    SLUICE_TRY(connection.Execute(
        fmt::format("CREATE OR REPLACE TEMP VIEW {} AS {}", SqlIdent(relation), Join(parts, " UNION ALL "))));
    bool all_done = std::all_of(partition_done_.begin(), partition_done_.end(), [](bool d) { return d; });
    return all_done ? ReadState::kFinished : ReadState::kHaveMore;
  }

  std::vector<std::unique_ptr<postgres::PgCopyReader>> partitions_;
  std::vector<bool> partition_done_;
};

}  // namespace

std::unique_ptr<SourceReader> MakeWindowReader(PostgresOptions options, ReadPlan plan) {
  return std::make_unique<WindowReader>(std::move(options), std::move(plan));
}

}  // namespace sluice::connectors::pg_source
