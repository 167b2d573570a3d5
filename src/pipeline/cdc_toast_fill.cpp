#include "pipeline/cdc_toast_fill.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/strings.hpp"

namespace sluice::pipeline {

using connectors::kChangeLsnColumn;
using connectors::kChangeTypeColumn;
using connectors::kUnchangedColumn;

Result<std::string> FillUnchangedValues(engine::Connection& connection, const connectors::ChangeBatchTable& batch,
                                        const std::optional<std::string>& lake_scan, const std::string& where) {
  if (batch.key.empty()) {
    return Status::DataError(
        "{}: PostgreSQL did not send unchanged TOAST values of some updated rows and the table has no key to find "
        "their "
        "previous values by; give the table a primary key, or set REPLICA IDENTITY FULL so the old values are sent",
        where);
  }
  SLUICE_ASSIGN_OR_RETURN(auto described, connection.Describe("SELECT * FROM " + SqlIdent(batch.relation)));
  std::vector<std::string> data;  // the table's own columns
  for (const auto& c : described) {
    if (c.name.empty() || c.name[0] != '_' ||
        (c.name != kChangeTypeColumn && c.name != kChangeLsnColumn && c.name != connectors::kCommitTsColumn &&
         c.name != connectors::kTxidColumn && c.name != kUnchangedColumn)) {
      data.push_back(c.name);
    }
  }
  std::vector<std::string> key;
  for (const auto& k : batch.key) key.push_back(SqlIdent(k));
  std::string keys = Join(key, ", ");
  std::string rel = SqlIdent(batch.relation);
  std::string u = SqlIdent(kUnchangedColumn);

  // Earlier rows of the keys that need a value: the latest non-delete row of each in the lake.
  std::string previous;
  if (lake_scan) {
    std::vector<std::string> columns;
    for (const auto& c : data) columns.push_back(SqlIdent(c));
    std::vector<std::string> joined;
    for (const auto& k : key) joined.push_back(fmt::format("_b.{0} = _s.{0}", k));
    previous = fmt::format(
        " UNION ALL BY NAME SELECT {cols}, {lsn}, {type}, CAST([] AS VARCHAR[]) AS {u}, true AS _sluice_prev FROM ("
        "SELECT {cols}, {lsn}, {type}, row_number() OVER (PARTITION BY {keys} ORDER BY {lsn} DESC) AS _sluice_rn "
        "FROM {scan} AS _s WHERE {type} IS DISTINCT FROM 'delete' AND {type} IS DISTINCT FROM 'truncate' AND EXISTS "
        "(SELECT 1 FROM {rel} AS _b WHERE len(_b.{u}) > 0 AND {joined})) WHERE _sluice_rn = 1",
        fmt::arg("cols", Join(columns, ", ")), fmt::arg("lsn", SqlIdent(kChangeLsnColumn)), fmt::arg("u", u),
        fmt::arg("keys", keys), fmt::arg("scan", "(" + *lake_scan + ")"), fmt::arg("type", SqlIdent(kChangeTypeColumn)),
        fmt::arg("rel", rel), fmt::arg("joined", Join(joined, " AND ")));
  }
  std::vector<std::string> replace, unfilled;
  for (const auto& c : data) {
    std::string col = SqlIdent(c), name = SqlQuote(c);
    // Deletes and truncates carry only the key: they are no source of earlier values.
    replace.push_back(fmt::format(
        "CASE WHEN list_contains({u}, {name}) THEN last_value(CASE WHEN NOT list_contains({u}, {name}) AND {type} IN "
        "('insert', 'update', 'snapshot') THEN {col} END IGNORE NULLS) OVER w ELSE {col} END AS {col}",
        fmt::arg("u", u), fmt::arg("name", name), fmt::arg("col", col), fmt::arg("type", SqlIdent(kChangeTypeColumn))));
    unfilled.push_back(fmt::format("(list_contains({}, {}) AND {} IS NULL)", u, name, col));
  }
  std::string view = SqlIdent(batch.relation + "_filled");
  SLUICE_TRY(connection.Execute(fmt::format(
      "CREATE OR REPLACE TEMP VIEW {view} AS SELECT * EXCLUDE (_sluice_prev) FROM (SELECT * REPLACE ({replace}) FROM "
      "(SELECT *, false AS _sluice_prev FROM {rel}{previous}) WINDOW w AS (PARTITION BY {keys} ORDER BY _sluice_prev "
      "DESC, {lsn} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)) WHERE NOT _sluice_prev",
      fmt::arg("view", view), fmt::arg("replace", Join(replace, ", ")), fmt::arg("rel", rel),
      fmt::arg("previous", previous), fmt::arg("keys", keys), fmt::arg("lsn", SqlIdent(kChangeLsnColumn)))));
  SLUICE_ASSIGN_OR_RETURN(
      auto missing, connection.Query(fmt::format("SELECT {}, CAST({} AS VARCHAR) AS lsn FROM {} WHERE {} LIMIT 1",
                                                 fmt::format("concat_ws('/', {})", keys), SqlIdent(kChangeLsnColumn),
                                                 view, Join(unfilled, " OR "))));
  if (!missing.rows.empty()) {
    return Status::DataError(
        "{}: the update at WAL position {} of the row with key {} left a TOASTed value unchanged, and no earlier value "
        "of that row is in the batch or the lake table; nothing was committed. Set REPLICA IDENTITY FULL on the table "
        "(PostgreSQL then sends old values) and run `sluice run <pipeline> --full-refresh`",
        where, missing.rows[0][1].value_or("?"), missing.rows[0][0].value_or("NULL"));
  }
  return view;
}

}  // namespace sluice::pipeline
