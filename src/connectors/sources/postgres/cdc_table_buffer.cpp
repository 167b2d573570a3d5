#include "connectors/sources/postgres/cdc_table_buffer.hpp"

#include <fmt/format.h>

#include "common/strings.hpp"
#include "connectors/postgres/pg_text_values.hpp"

namespace sluice::connectors::pgcdc {
namespace {

using engine::AppendColumn;
using engine::ColumnKind;

// Fixed leading columns of the text table; data columns follow as c0, c1, … (never clashing with them).
constexpr size_t kChangeType = 0, kLsn = 1, kCommitTs = 2, kTxid = 3, kUnchanged = 4, kFixed = 5;

std::vector<AppendColumn> FixedColumns() {
  AppendColumn unchanged{kUnchangedColumn, ColumnKind::kList};
  unchanged.element.push_back(AppendColumn{"", ColumnKind::kVarchar});
  return {{kChangeTypeColumn, ColumnKind::kVarchar},
          {kChangeLsnColumn, ColumnKind::kInt64},
          {kCommitTsColumn, ColumnKind::kTimestampTz},
          {kTxidColumn, ColumnKind::kInt64},
          unchanged};
}

std::string DataColumn(size_t i) { return fmt::format("c{}", i); }

}  // namespace

std::vector<std::string> TableBuffer::LayoutNames() const {
  std::vector<std::string> names;
  for (size_t c : position_to_column_) names.push_back(columns_[c].name);
  return names;
}

Status TableBuffer::SetLayout(engine::Connection& connection, std::vector<postgres::PgColumn> layout) {
  std::vector<size_t> added;
  position_to_column_.clear();
  for (auto& column : layout) {
    size_t index = columns_.size();
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (columns_[i].name == column.name) index = i;
    }
    if (index == columns_.size()) {
      columns_.push_back(column);
      added.push_back(index);
    } else {
      columns_[index] = column;  // a changed type: the view casts with the latest one
    }
    position_to_column_.push_back(index);
  }
  if (!table_created_ || added.empty()) return Status::OK();
  // The batch already has rows: add the new columns to its text table (earlier rows read NULL).
  if (appender_) {
    SLUICE_TRY(appender_->Close());
    appender_.reset();
  }
  for (size_t i : added) {
    SLUICE_TRY(connection.Execute(
        fmt::format("ALTER TABLE {} ADD COLUMN {} VARCHAR", SqlIdent(TextTable()), SqlIdent(DataColumn(i)))));
  }
  return Open(connection);
}

Status TableBuffer::Open(engine::Connection& connection) {
  std::vector<AppendColumn> columns = FixedColumns();
  for (size_t i = 0; i < columns_.size(); ++i) columns.push_back({DataColumn(i), ColumnKind::kVarchar});
  if (!table_created_) {
    SLUICE_TRY(connection.Execute(fmt::format("DROP TABLE IF EXISTS {}; {}", SqlIdent(TextTable()),
                                              engine::CreateTableSql(TextTable(), columns, /*temporary=*/true))));
    table_created_ = true;
  }
  SLUICE_ASSIGN_OR_RETURN(appender_, engine::Appender::Make(connection, TextTable(), columns));
  return Status::OK();
}

Result<int64_t> TableBuffer::Append(engine::Connection& connection, const ChangeRow& row) {
  if (!appender_) SLUICE_TRY(Open(connection));
  if (row.values != nullptr && row.values->size() != position_to_column_.size()) {
    return Status::DataError("a change of {} at {} has {} values, but its relation has {} columns", table_.source,
                             postgres::FormatLsn(row.lsn), row.values->size(), position_to_column_.size());
  }
  auto& a = *appender_;
  a.SetVarchar(kChangeType, row.change_type);
  a.SetInt64(kLsn, static_cast<int64_t>(row.lsn.value));
  a.SetTimestamp(kCommitTs, row.commit_time_unix_us);
  a.SetInt64(kTxid, row.xid);
  int64_t bytes = 48;
  std::vector<size_t> unchanged;
  if (row.values != nullptr) {
    for (size_t p = 0; p < row.values->size(); ++p) {
      const auto& value = (*row.values)[p];
      size_t c = position_to_column_[p];
      const postgres::TupleValue* source = &value;
      if (value.kind == postgres::TupleValueKind::kUnchangedToast && row.old_values != nullptr &&
          p < row.old_values->size() && (*row.old_values)[p].kind == postgres::TupleValueKind::kText) {
        source = &(*row.old_values)[p];  // REPLICA IDENTITY FULL sent the old value itself
      }
      switch (source->kind) {
        case postgres::TupleValueKind::kNull: a.SetNull(kFixed + c); break;
        case postgres::TupleValueKind::kUnchangedToast:
          a.SetNull(kFixed + c);
          unchanged.push_back(c);
          has_unchanged_ = true;
          break;
        case postgres::TupleValueKind::kText:
          bytes += static_cast<int64_t>(source->text.size());
          if (columns_[c].target.kind == ColumnKind::kList) {
            auto json = postgres::ArrayTextToJson(source->text);
            if (!json.ok()) return json.status().WithContext("column '{}' of {}", columns_[c].name, table_.source);
            a.SetVarchar(kFixed + c, *json);
          } else {
            a.SetVarchar(kFixed + c, source->text);
          }
          break;
      }
    }
  }
  // A list builder lives only until the next setter: the unchanged columns go in last.
  auto list = a.BeginList(kUnchanged);
  for (size_t c : unchanged) list.AddVarchar(columns_[c].name);
  Status ended = a.EndRow();
  if (!ended.ok()) return ended.WithContext("buffering a change of {}", table_.source);
  ++rows_;
  return bytes;
}

Result<ChangeBatchTable> TableBuffer::Finish(engine::Connection& connection) {
  ChangeBatchTable out;
  out.lake_table = table_.lake_table;
  out.relation = relation_;
  out.key = table_.key;
  out.rows = rows_;
  out.has_unchanged = has_unchanged_;
  if (!appender_) SLUICE_TRY(Open(connection));
  SLUICE_TRY(appender_->Flush());
  std::vector<std::string> select;
  for (size_t i = 0; i < columns_.size(); ++i) {
    select.push_back(fmt::format("{} AS {}", postgres::TextToTypedSql(columns_[i], SqlIdent(DataColumn(i))),
                                 SqlIdent(columns_[i].name)));
  }
  for (const char* c : {kChangeTypeColumn, kChangeLsnColumn, kCommitTsColumn, kTxidColumn, kUnchangedColumn}) {
    select.push_back(SqlIdent(c));
  }
  SLUICE_TRY(connection.Execute(fmt::format("CREATE OR REPLACE TEMP VIEW {} AS SELECT {} FROM {}", SqlIdent(relation_),
                                            Join(select, ", "), SqlIdent(TextTable()))));
  return out;
}

Status TableBuffer::Seal() {
  if (!appender_) return Status::OK();
  Status closed = appender_->Close();
  appender_.reset();
  return closed;
}

Status TableBuffer::Reset(engine::Connection& connection) {
  if (appender_) {
    (void)appender_->Close();
    appender_.reset();
  }
  rows_ = 0;
  has_unchanged_ = false;
  if (table_created_) {
    SLUICE_TRY(connection.Execute(
        fmt::format("DROP VIEW IF EXISTS {}; DROP TABLE IF EXISTS {}", SqlIdent(relation_), SqlIdent(TextTable()))));
    table_created_ = false;
  }
  // Columns dropped at the source since stay out of the next batch.
  std::vector<postgres::PgColumn> layout;
  for (size_t c : position_to_column_) layout.push_back(columns_[c]);
  columns_ = std::move(layout);
  for (size_t i = 0; i < position_to_column_.size(); ++i) position_to_column_[i] = i;
  return Status::OK();
}

}  // namespace sluice::connectors::pgcdc
