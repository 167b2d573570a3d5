/* Bare DuckDB, no sluice: runs the SQL statements given as arguments and prints results
 * tab-separated. The baseline the benchmarks compare sluice against, in the same run. */
#include <duckdb.h>
#include <stdio.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: duckdb_sql SQL [SQL ...]\n");
    return 2;
  }
  duckdb_database db;
  duckdb_connection con;
  if (duckdb_open(NULL, &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError) {
    fprintf(stderr, "could not open DuckDB\n");
    return 1;
  }
  int rc = 0;
  for (int i = 1; i < argc && rc == 0; ++i) {
    duckdb_result result;
    if (duckdb_query(con, argv[i], &result) == DuckDBError) {
      fprintf(stderr, "error: %s\n", duckdb_result_error(&result));
      rc = 1;
    } else {
      idx_t cols = duckdb_column_count(&result), rows = duckdb_row_count(&result);
      for (idx_t r = 0; r < rows; ++r) {
        for (idx_t c = 0; c < cols; ++c) {
          char* v = duckdb_value_varchar(&result, c, r);
          printf("%s%s", c ? "\t" : "", v ? v : "NULL");
          duckdb_free(v);
        }
        printf("\n");
      }
    }
    duckdb_destroy_result(&result);
  }
  duckdb_disconnect(&con);
  duckdb_close(&db);
  return rc;
}
