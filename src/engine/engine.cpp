#include "engine/engine.hpp"

#include <duckdb.h>

#include "common/strings.hpp"
#include "engine/duckdb_types.hpp"

namespace sluice::engine {

StatusCode CodeForDuckDbError(duckdb_error_type type) {
  switch (type) {
    case DUCKDB_ERROR_PARSER:
    case DUCKDB_ERROR_BINDER:
    case DUCKDB_ERROR_CATALOG:
    case DUCKDB_ERROR_SYNTAX:
    case DUCKDB_ERROR_NOT_IMPLEMENTED:
    case DUCKDB_ERROR_PARAMETER_NOT_RESOLVED:
    case DUCKDB_ERROR_PERMISSION: return StatusCode::kInvalidArgument;
    case DUCKDB_ERROR_CONVERSION:
    case DUCKDB_ERROR_INVALID_INPUT:
    case DUCKDB_ERROR_OUT_OF_RANGE:
    case DUCKDB_ERROR_CONSTRAINT:
    case DUCKDB_ERROR_INVALID_TYPE:
    case DUCKDB_ERROR_MISMATCH_TYPE:
    case DUCKDB_ERROR_DIVIDE_BY_ZERO: return StatusCode::kDataError;
    case DUCKDB_ERROR_IO:
    case DUCKDB_ERROR_HTTP: return StatusCode::kIoError;
    case DUCKDB_ERROR_INTERRUPT: return StatusCode::kCancelled;
    case DUCKDB_ERROR_TRANSACTION: return StatusCode::kConflict;
    default: return StatusCode::kInternal;
  }
}

namespace {

constexpr const char* kExpectedVersion = "v1.4.4";

/// Owns a duckdb_result; the C API requires destroying it even when the query failed.
class ResultHandle {
 public:
  ResultHandle() = default;
  ~ResultHandle() { duckdb_destroy_result(&result_); }
  ResultHandle(const ResultHandle&) = delete;
  ResultHandle& operator=(const ResultHandle&) = delete;
  duckdb_result* get() { return &result_; }

  Status ErrorStatus() {
    const char* message = duckdb_result_error(&result_);
    return Status(CodeForDuckDbError(duckdb_result_error_type(&result_)), message ? message : "unknown DuckDB error");
  }

 private:
  duckdb_result result_{};
};

class PreparedHandle {
 public:
  ~PreparedHandle() { duckdb_destroy_prepare(&stmt_); }
  duckdb_prepared_statement* out() { return &stmt_; }
  duckdb_prepared_statement get() { return stmt_; }

 private:
  duckdb_prepared_statement stmt_ = nullptr;
};

class ExtractedHandle {
 public:
  ~ExtractedHandle() { duckdb_destroy_extracted(&extracted_); }
  duckdb_extracted_statements* out() { return &extracted_; }
  duckdb_extracted_statements get() { return extracted_; }

 private:
  duckdb_extracted_statements extracted_ = nullptr;
};

std::string StatementKindName(duckdb_statement_type type) {
  switch (type) {
    case DUCKDB_STATEMENT_TYPE_SELECT: return "SELECT";
    case DUCKDB_STATEMENT_TYPE_INSERT: return "INSERT";
    case DUCKDB_STATEMENT_TYPE_UPDATE: return "UPDATE";
    case DUCKDB_STATEMENT_TYPE_EXPLAIN: return "EXPLAIN";
    case DUCKDB_STATEMENT_TYPE_DELETE: return "DELETE";
    case DUCKDB_STATEMENT_TYPE_PREPARE: return "PREPARE";
    case DUCKDB_STATEMENT_TYPE_CREATE: return "CREATE";
    case DUCKDB_STATEMENT_TYPE_EXECUTE: return "EXECUTE";
    case DUCKDB_STATEMENT_TYPE_ALTER: return "ALTER";
    case DUCKDB_STATEMENT_TYPE_TRANSACTION: return "TRANSACTION";
    case DUCKDB_STATEMENT_TYPE_COPY: return "COPY";
    case DUCKDB_STATEMENT_TYPE_ANALYZE: return "ANALYZE";
    case DUCKDB_STATEMENT_TYPE_VARIABLE_SET: return "SET VARIABLE";
    case DUCKDB_STATEMENT_TYPE_CREATE_FUNC: return "CREATE FUNCTION";
    case DUCKDB_STATEMENT_TYPE_DROP: return "DROP";
    case DUCKDB_STATEMENT_TYPE_EXPORT: return "EXPORT";
    case DUCKDB_STATEMENT_TYPE_PRAGMA: return "PRAGMA";
    case DUCKDB_STATEMENT_TYPE_VACUUM: return "VACUUM";
    case DUCKDB_STATEMENT_TYPE_CALL: return "CALL";
    case DUCKDB_STATEMENT_TYPE_SET: return "SET";
    case DUCKDB_STATEMENT_TYPE_LOAD: return "LOAD/INSTALL";
    case DUCKDB_STATEMENT_TYPE_ATTACH: return "ATTACH";
    case DUCKDB_STATEMENT_TYPE_DETACH: return "DETACH";
    default: return "other";
  }
}

class ChunkHandle {
 public:
  explicit ChunkHandle(duckdb_data_chunk chunk) : chunk_(chunk) {}
  ~ChunkHandle() {
    if (chunk_) duckdb_destroy_data_chunk(&chunk_);
  }
  duckdb_data_chunk get() const { return chunk_; }

 private:
  duckdb_data_chunk chunk_;
};

std::optional<std::string> ValueAsText(duckdb_result* result, idx_t col, idx_t row) {
  if (duckdb_value_is_null(result, col, row)) return std::nullopt;
  char* text = duckdb_value_varchar(result, col, row);
  std::string out = text ? text : "";
  duckdb_free(text);
  return out;
}

/// Streams a query whose columns were all cast to VARCHAR, reading the string vectors directly.
class VarcharStream final : public TextStream {
 public:
  VarcharStream(std::unique_ptr<ResultHandle> result, std::vector<std::string> names)
      : result_(std::move(result)), names_(std::move(names)) {}

  const std::vector<std::string>& column_names() const override { return names_; }

  Status Next(std::vector<TextRow>* rows) override {
    rows->clear();
    ChunkHandle chunk(duckdb_fetch_chunk(*result_->get()));
    if (chunk.get() == nullptr) {
      const char* error = duckdb_result_error(result_->get());
      if (error != nullptr && *error != '\0') return result_->ErrorStatus();
      return Status::OK();
    }
    idx_t size = duckdb_data_chunk_get_size(chunk.get());
    rows->assign(size, TextRow(names_.size()));
    for (idx_t c = 0; c < names_.size(); ++c) {
      duckdb_vector vector = duckdb_data_chunk_get_vector(chunk.get(), c);
      auto* data = static_cast<duckdb_string_t*>(duckdb_vector_get_data(vector));
      uint64_t* validity = duckdb_vector_get_validity(vector);
      for (idx_t r = 0; r < size; ++r) {
        if (validity != nullptr && !duckdb_validity_row_is_valid(validity, r)) continue;
        (*rows)[r][c] = std::string(duckdb_string_t_data(&data[r]), duckdb_string_t_length(data[r]));
      }
    }
    return Status::OK();
  }

 private:
  std::unique_ptr<ResultHandle> result_;
  std::vector<std::string> names_;
};

class DuckConnection final : public Connection {
 public:
  explicit DuckConnection(duckdb_connection connection) : connection_(connection) {}
  ~DuckConnection() override { duckdb_disconnect(&connection_); }

  Status Execute(std::string_view sql) override {
    ResultHandle result;
    if (duckdb_query(connection_, std::string(sql).c_str(), result.get()) == DuckDBError) {
      return result.ErrorStatus();
    }
    return Status::OK();
  }

  Result<TextResult> Query(std::string_view sql) override {
    // Row-returning statements go through the VARCHAR cast: DuckDB's value-by-value API
    // mis-renders (or crashes on) UUID, DECIMAL and LIST values.
    if (auto columns = Describe(sql); columns.ok()) {
      SLUICE_ASSIGN_OR_RETURN(auto stream, StreamDescribed(sql, *columns));
      TextResult out;
      out.column_names = stream->column_names();
      std::vector<TextRow> batch;
      while (true) {
        SLUICE_TRY(stream->Next(&batch));
        if (batch.empty()) break;
        for (auto& row : batch) out.rows.push_back(std::move(row));
      }
      return out;
    }
    return QueryDirect(sql);
  }

  /// Statements that cannot be a subquery (COPY … RETURN_STATS, PRAGMA, DDL), whose results
  /// hold only plain types.
  Result<TextResult> QueryDirect(std::string_view sql) {
    ResultHandle result;
    if (duckdb_query(connection_, std::string(sql).c_str(), result.get()) == DuckDBError) {
      return result.ErrorStatus();
    }
    TextResult out;
    idx_t columns = duckdb_column_count(result.get());
    for (idx_t c = 0; c < columns; ++c) out.column_names.emplace_back(duckdb_column_name(result.get(), c));
    idx_t rows = duckdb_row_count(result.get());
    out.rows.reserve(rows);
    for (idx_t r = 0; r < rows; ++r) {
      TextRow row(columns);
      for (idx_t c = 0; c < columns; ++c) row[c] = ValueAsText(result.get(), c, r);
      out.rows.push_back(std::move(row));
    }
    out.rows_changed = duckdb_rows_changed(result.get());
    return out;
  }

  Result<std::unique_ptr<TextStream>> Stream(std::string_view sql) override {
    SLUICE_ASSIGN_OR_RETURN(auto columns, Describe(sql));
    return StreamDescribed(sql, columns);
  }

  /// Stream() for a statement whose columns are already known.
  Result<std::unique_ptr<TextStream>> StreamDescribed(std::string_view sql,
                                                      const std::vector<ColumnDescription>& columns) {
    std::vector<std::string> names;
    std::string casts;
    for (size_t i = 0; i < columns.size(); ++i) {
      names.push_back(columns[i].name);
      if (i > 0) casts += ", ";
      // Positional references survive duplicate or odd column names.
      casts += fmt::format("CAST(#{} AS VARCHAR)", i + 1);
    }
    std::string wrapped = fmt::format("SELECT {} FROM ({}) AS q", casts, sql);
    PreparedHandle stmt;
    if (duckdb_prepare(connection_, wrapped.c_str(), stmt.out()) == DuckDBError) {
      return Status::Invalid("{}", duckdb_prepare_error(stmt.get()));
    }
    auto result = std::make_unique<ResultHandle>();
    if (duckdb_execute_prepared_streaming(stmt.get(), result->get()) == DuckDBError) {
      return result->ErrorStatus();
    }
    return std::unique_ptr<TextStream>(std::make_unique<VarcharStream>(std::move(result), std::move(names)));
  }

  Result<std::vector<ColumnDescription>> Describe(std::string_view sql) override {
    // DESCRIBE returns only VARCHAR columns, which the direct path renders correctly.
    SLUICE_ASSIGN_OR_RETURN(auto described, QueryDirect(fmt::format("DESCRIBE {}", sql)));
    std::vector<ColumnDescription> out;
    for (size_t r = 0; r < described.rows.size(); ++r) {
      out.push_back({described.Get(r, "column_name"), described.Get(r, "column_type")});
    }
    return out;
  }

  Result<StatementInfo> Inspect(std::string_view sql) override {
    ExtractedHandle extracted;
    std::string text(sql);
    StatementInfo info;
    info.statement_count = duckdb_extract_statements(connection_, text.c_str(), extracted.out());
    if (info.statement_count == 0) {
      const char* error = duckdb_extract_statements_error(extracted.get());
      if (error != nullptr && *error != '\0') return Status::Invalid("{}", error);
      return info;
    }
    if (info.statement_count != 1) return info;
    PreparedHandle stmt;
    if (duckdb_prepare_extracted_statement(connection_, extracted.get(), 0, stmt.out()) == DuckDBError) {
      const char* error = duckdb_prepare_error(stmt.get());
      // DuckDB prefixes the message with its error type ("Permission Error: …", "Catalog Error: …").
      return Status::Invalid("{}", error ? error : "unknown DuckDB error");
    }
    duckdb_statement_type type = duckdb_prepared_statement_type(stmt.get());
    info.is_select = type == DUCKDB_STATEMENT_TYPE_SELECT;
    info.kind = StatementKindName(type);
    return info;
  }

  Progress CurrentProgress() override {
    duckdb_query_progress_type p = duckdb_query_progress(connection_);
    return Progress{p.percentage, p.rows_processed, p.total_rows_to_process};
  }

  void Interrupt() override { duckdb_interrupt(connection_); }

 private:
  void* RawHandle() override { return connection_; }

  duckdb_connection connection_;
};

class DuckDatabase final : public Database {
 public:
  explicit DuckDatabase(duckdb_database db) : db_(db) {}
  ~DuckDatabase() override { duckdb_close(&db_); }

  Result<std::unique_ptr<Connection>> Connect() override {
    duckdb_connection connection = nullptr;
    if (duckdb_connect(db_, &connection) == DuckDBError) {
      return Status::Internal("could not open a DuckDB connection");
    }
    return std::unique_ptr<Connection>(std::make_unique<DuckConnection>(connection));
  }

 private:
  duckdb_database db_;
};

class ConfigHandle {
 public:
  ~ConfigHandle() { duckdb_destroy_config(&config_); }
  duckdb_config* out() { return &config_; }
  duckdb_config get() { return config_; }

 private:
  duckdb_config config_ = nullptr;
};

}  // namespace

size_t TextResult::ColumnIndex(std::string_view name) const {
  for (size_t i = 0; i < column_names.size(); ++i) {
    if (column_names[i] == name) return i;
  }
  return std::string::npos;
}

std::string TextResult::Get(size_t row, std::string_view column) const {
  size_t c = ColumnIndex(column);
  if (c == std::string::npos || row >= rows.size() || !rows[row][c]) return "";
  return *rows[row][c];
}

int64_t TextResult::GetInt(size_t row, std::string_view column, int64_t fallback) const {
  std::string text = Get(row, column);
  if (text.empty()) return fallback;
  try {
    return std::stoll(text);
  } catch (...) {
    return fallback;
  }
}

std::string ExpectedLibraryVersion() { return kExpectedVersion; }
std::string LibraryVersion() { return duckdb_library_version(); }

Result<std::unique_ptr<Database>> Database::Open(const DatabaseOptions& options) {
  if (LibraryVersion() != kExpectedVersion) {
    return Status::Internal(
        "libduckdb.so is {} but sluice was built against {}; rebuild sluice (make build) so both match",
        LibraryVersion(), kExpectedVersion);
  }
  ConfigHandle config;
  if (duckdb_create_config(config.out()) == DuckDBError) {
    return Status::Internal("could not create a DuckDB configuration");
  }
  std::vector<std::pair<std::string, std::string>> settings = {
      {"autoinstall_known_extensions", "false"},
      {"autoload_known_extensions", "false"},
  };
  if (!options.temp_directory.empty()) settings.emplace_back("temp_directory", options.temp_directory);
  if (!options.memory_limit.empty()) settings.emplace_back("memory_limit", options.memory_limit);
  if (options.threads > 0) settings.emplace_back("threads", std::to_string(options.threads));
  for (const auto& [name, value] : settings) {
    if (duckdb_set_config(config.get(), name.c_str(), value.c_str()) == DuckDBError) {
      return Status::Invalid("DuckDB rejected setting {}={}; check the engine: section of sluice.yaml", name, value);
    }
  }
  duckdb_database db = nullptr;
  char* error = nullptr;
  if (duckdb_open_ext(options.path.c_str(), &db, config.get(), &error) == DuckDBError) {
    std::string message = error ? error : "unknown error";
    duckdb_free(error);
    return Status::IoError("could not open DuckDB database '{}': {}", options.path, message);
  }
  return std::unique_ptr<Database>(std::make_unique<DuckDatabase>(db));
}

}  // namespace sluice::engine
