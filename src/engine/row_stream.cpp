#include "engine/row_stream.hpp"

#include <duckdb.h>

#include <atomic>
#include <exception>
#include <mutex>
#include <unordered_map>

#include "common/strings.hpp"
#include "engine/duckdb_types.hpp"

namespace sluice::engine {

// The table function behind every stream view: sluice_row_stream(id). The id names an entry of
// a process-wide registry, so that a view can be bound (described) any number of times while
// the rows behind it are read only once.
constexpr const char* kStreamFunction = "sluice_row_stream";

struct RowStream::State {
  uint64_t id = 0;
  std::string view;
  std::vector<AppendColumn> columns;
  std::vector<std::unique_ptr<RowProducer>> producers;

  std::atomic<size_t> next_producer{0};
  std::atomic<size_t> finished_producers{0};
  std::atomic<uint64_t> rows{0};
  std::mutex mutex;
  bool scanned = false;  // a query has started reading the rows
  Status error;          // the first producer error
};

namespace {

std::mutex registry_mutex;
std::unordered_map<uint64_t, std::weak_ptr<RowStream::State>> registry;
std::atomic<uint64_t> next_stream_id{1};

std::shared_ptr<RowStream::State> FindStream(uint64_t id) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  auto found = registry.find(id);
  return found == registry.end() ? nullptr : found->second.lock();
}

/// One DuckDB worker thread's part of a scan: the appender it fills DuckDB's output chunks with,
/// and the producer it drives. A thread whose producer is done takes the next one nobody has
/// taken, so every producer is read however many threads DuckDB gives the scan.
struct ScanThread {
  std::unique_ptr<Appender> rows;
  RowProducer* producer = nullptr;  // null: every producer is taken
};

template <typename T>
void DeleteAs(void* data) {
  delete static_cast<T*>(data);
}

}  // namespace

/// DuckDB's callbacks (C functions: no exception may cross them).
struct RowStreamCallbacks {
  using StatePtr = std::shared_ptr<RowStream::State>;

  static void Bind(duckdb_bind_info info) {
    duckdb_value argument = duckdb_bind_get_parameter(info, 0);
    int64_t id = duckdb_get_int64(argument);
    duckdb_destroy_value(&argument);
    StatePtr state = FindStream(static_cast<uint64_t>(id));
    if (state == nullptr) {
      duckdb_bind_set_error(info, fmt::format("row stream #{} no longer exists: its rows were read by the run that "
                                              "made it; read the data from the lake instead",
                                              id)
                                      .c_str());
      return;
    }
    for (const auto& column : state->columns) {
      duckdb_logical_type type = NewLogicalType(column);
      duckdb_bind_add_result_column(info, column.name.c_str(), type);
      duckdb_destroy_logical_type(&type);
    }
    duckdb_bind_set_bind_data(info, new StatePtr(std::move(state)), DeleteAs<StatePtr>);
  }

  static void Init(duckdb_init_info info) {
    auto& state = *static_cast<StatePtr*>(duckdb_init_get_bind_data(info));
    std::lock_guard<std::mutex> lock(state->mutex);
    if (state->scanned) {
      duckdb_init_set_error(info, fmt::format("the rows of '{}' were read already and cannot be read twice: they "
                                              "come straight from the source as they are read",
                                              state->view)
                                      .c_str());
      return;
    }
    state->scanned = true;
    duckdb_init_set_max_threads(info, std::max<size_t>(1, state->producers.size()));
  }

  static void InitThread(duckdb_init_info info) {
    auto& state = *static_cast<StatePtr*>(duckdb_init_get_bind_data(info));
    auto rows = Appender::ForChunks(state->view, state->columns);
    if (!rows.ok()) {
      duckdb_init_set_error(info, rows.status().message().c_str());
      return;
    }
    auto thread = std::make_unique<ScanThread>();
    thread->rows = std::move(*rows);
    thread->producer = NextProducer(*state);
    duckdb_init_set_init_data(info, thread.release(), DeleteAs<ScanThread>);
  }

  static RowProducer* NextProducer(RowStream::State& state) {
    size_t index = state.next_producer.fetch_add(1);
    std::lock_guard<std::mutex> lock(state.mutex);
    return index < state.producers.size() ? state.producers[index].get() : nullptr;
  }

  static void Scan(duckdb_function_info info, duckdb_data_chunk output) {
    auto& state = *static_cast<StatePtr*>(duckdb_function_get_bind_data(info));
    auto* thread = static_cast<ScanThread*>(duckdb_function_get_local_init_data(info));
    duckdb_data_chunk_set_size(output, 0);
    if (thread == nullptr) return;
    Status failed;
    try {
      // An empty chunk ends this thread's scan, so a call that produced nothing asks again.
      while (thread->producer != nullptr) {
        thread->rows->BeginChunk(output);
        Result<bool> more = thread->producer->Fill(*thread->rows);
        size_t produced = thread->rows->EndChunk();
        if (!more.ok()) {
          failed = more.status();
          break;
        }
        state->rows.fetch_add(produced);
        if (!*more) {
          state->finished_producers.fetch_add(1);
          thread->producer = NextProducer(*state);
        }
        if (produced > 0) return;
      }
    } catch (const std::exception& e) {
      failed = Status::Internal("reading row stream '{}': {}", state->view, e.what());
    }
    if (failed.ok()) return;
    duckdb_data_chunk_set_size(output, 0);
    thread->producer = nullptr;
    {
      std::lock_guard<std::mutex> lock(state->mutex);
      if (state->error.ok()) state->error = failed;
    }
    duckdb_function_set_error(info, failed.message().c_str());
  }
};

namespace {

std::mutex register_mutex;

Status EnsureStreamFunction(Connection& connection, void* raw) {
  std::lock_guard<std::mutex> lock(register_mutex);
  SLUICE_ASSIGN_OR_RETURN(auto existing, connection.Query(fmt::format(
                                             "SELECT count(*) AS n FROM duckdb_functions() WHERE function_name = {}",
                                             SqlQuote(kStreamFunction))));
  if (existing.GetInt(0, "n") > 0) return Status::OK();
  duckdb_table_function function = duckdb_create_table_function();
  duckdb_table_function_set_name(function, kStreamFunction);
  duckdb_logical_type id = duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
  duckdb_table_function_add_parameter(function, id);
  duckdb_destroy_logical_type(&id);
  duckdb_table_function_set_bind(function, RowStreamCallbacks::Bind);
  duckdb_table_function_set_init(function, RowStreamCallbacks::Init);
  duckdb_table_function_set_local_init(function, RowStreamCallbacks::InitThread);
  duckdb_table_function_set_function(function, RowStreamCallbacks::Scan);
  duckdb_state registered = duckdb_register_table_function(static_cast<duckdb_connection>(raw), function);
  duckdb_destroy_table_function(&function);
  if (registered != DuckDBSuccess)
    return Status::Internal("DuckDB refused to register table function '{}'", kStreamFunction);
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<RowStream>> RowStream::Create(Connection& connection, const std::string& view,
                                                     std::vector<AppendColumn> columns,
                                                     std::vector<std::unique_ptr<RowProducer>> producers) {
  void* raw = connection.RawHandle();
  if (raw == nullptr) return Status::Internal("this engine connection cannot read row streams (no DuckDB handle)");
  if (producers.empty()) return Status::Invalid("row stream '{}' has no producers", view);
  // The column specs are checked once here rather than on a worker thread in the middle of a query.
  SLUICE_TRY(Appender::ForChunks(view, columns).status());
  SLUICE_TRY(EnsureStreamFunction(connection, raw));

  auto state = std::make_shared<State>();
  state->id = next_stream_id.fetch_add(1);
  state->view = view;
  state->columns = std::move(columns);
  state->producers = std::move(producers);
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    registry[state->id] = state;
  }
  std::unique_ptr<RowStream> stream(new RowStream(state));
  SLUICE_TRY(connection.Execute(fmt::format("CREATE OR REPLACE TEMP VIEW {} AS SELECT * FROM {}({})", SqlIdent(view),
                                            kStreamFunction, state->id)));
  return stream;
}

RowStream::~RowStream() {
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    registry.erase(state_->id);
  }
  // DuckDB may keep the bound state (and so this State) a while longer; the producers, which
  // hold source connections, go now.
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->producers.clear();
}

const std::string& RowStream::view() const { return state_->view; }
uint64_t RowStream::rows() const { return state_->rows.load(); }
bool RowStream::finished() const { return state_->finished_producers.load() == state_->producers.size(); }

Status RowStream::error() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->error;
}

}  // namespace sluice::engine
