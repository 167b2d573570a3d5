#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"

// The only module that sees duckdb.h; everything above it speaks SQL text and plain values.
namespace sluice::engine {

struct DatabaseOptions {
  std::string path = ":memory:";
  std::string temp_directory;  // where DuckDB spills; "" = DuckDB's default
  std::string memory_limit;    // e.g. "1GB"; "" = DuckDB's default
  int threads = 0;             // 0 = all cores
};

/// One row of a result, every value rendered as text (nullopt = SQL NULL).
using TextRow = std::vector<std::optional<std::string>>;

struct ColumnDescription {
  std::string name;
  std::string type;  // DuckDB type name, e.g. "BIGINT", "DECIMAL(12,4)", "TIMESTAMP WITH TIME ZONE"
};

struct Progress {
  double percentage = -1;  // -1 when DuckDB cannot estimate
  uint64_t rows_processed = 0;
  uint64_t total_rows = 0;
};

/// A fully materialised result with values as text. For small results (metadata, checks, CLI).
class TextResult {
 public:
  std::vector<std::string> column_names;
  std::vector<TextRow> rows;
  uint64_t rows_changed = 0;  // for INSERT/COPY: rows affected

  size_t ColumnIndex(std::string_view name) const;  // npos if absent
  /// Value of `column` in row `row`, or "" for NULL/out of range.
  std::string Get(size_t row, std::string_view column) const;
  int64_t GetInt(size_t row, std::string_view column, int64_t fallback = 0) const;
};

/// Rows pulled a chunk at a time; memory stays bounded whatever the result size.
class TextStream {
 public:
  virtual ~TextStream() = default;
  virtual const std::vector<std::string>& column_names() const = 0;
  /// Fills `rows` with the next batch (cleared first); an empty batch means the end.
  virtual Status Next(std::vector<TextRow>* rows) = 0;
};

/// What DuckDB's parser and binder make of a SQL text, found without running it.
struct StatementInfo {
  size_t statement_count = 0;
  /// Of the only statement (statement_count == 1): a SELECT-like statement (SELECT, VALUES, FROM-first,
  /// WITH … SELECT, DESCRIBE/SHOW) reads and changes nothing but its result.
  bool is_select = false;
  std::string kind;  // e.g. "SELECT", "COPY", "ATTACH", "SET"; "" unless statement_count == 1
};

class ColumnStream;

class Connection {
 public:
  virtual ~Connection() = default;
  /// Runs one or more statements, discarding results.
  virtual Status Execute(std::string_view sql) = 0;
  virtual Result<TextResult> Query(std::string_view sql) = 0;
  /// Streams a query's rows as text (the query must be a single statement returning rows).
  virtual Result<std::unique_ptr<TextStream>> Stream(std::string_view sql) = 0;
  /// Column names and types a query would return, without running it.
  virtual Result<std::vector<ColumnDescription>> Describe(std::string_view sql) = 0;
  /// Splits `sql` into statements and binds the first (nothing runs): a parse error is InvalidArgument,
  /// a binding error (unknown table, refused file access) is returned as DuckDB reports it.
  virtual Result<StatementInfo> Inspect(std::string_view sql) = 0;
  /// Thread-safe: progress of the statement running on this connection.
  virtual Progress CurrentProgress() = 0;
  /// Thread-safe: makes the running statement fail with a cancellation.
  virtual void Interrupt() = 0;

 private:
  friend class Appender;
  friend class RowStream;
  friend Result<std::unique_ptr<ColumnStream>> StreamColumns(Connection&, std::string_view);
  friend Status RegisterTextFunction(Connection&, const std::string&, std::function<std::string(std::string_view)>);
  friend Result<std::string> EnsureSpaceTrimFunction(Connection&);
  /// The duckdb_connection behind this connection, for engine-internal code that needs the C API.
  virtual void* RawHandle() { return nullptr; }
};

class Database {
 public:
  /// Opens DuckDB, checking the library is the version we were built against and that extensions
  /// are never downloaded (there is no network to fetch them from).
  static Result<std::unique_ptr<Database>> Open(const DatabaseOptions& options);
  virtual ~Database() = default;
  virtual Result<std::unique_ptr<Connection>> Connect() = 0;
};

/// Makes `name(VARCHAR) -> VARCHAR` callable from SQL on the connection's database, computed by
/// `function` (NULL in, NULL out). It runs on DuckDB's worker threads, so it must be thread-safe.
/// Registering a name that exists already is an AlreadyExists error.
Status RegisterTextFunction(Connection& connection, const std::string& name,
                            std::function<std::string(std::string_view)> function);

/// The DuckDB version this build expects ("v1.4.4").
std::string ExpectedLibraryVersion();
std::string LibraryVersion();

}  // namespace sluice::engine
