#include "pipeline/change_detection.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/strings.hpp"
#include "connectors/source.hpp"

namespace sluice::pipeline {

Result<ChangeIndexRef> ChangeIndexRef::Parse(const std::string& state_json) {
  ChangeIndexRef ref;
  if (state_json.empty() || state_json == "{}") return ref;
  try {
    auto json = nlohmann::json::parse(state_json);
    ref.key = json.value("key", "");
    ref.rows = json.value("rows", int64_t{0});
    ref.hash_kind = json.value("hash", std::string(kPortableRowHash));
  } catch (const std::exception& e) {
    return Status::DataError(
        "the stored change index reference is not valid JSON ({}); run with --full-refresh to rebuild it", e.what());
  }
  return ref;
}

std::string ChangeIndexRef::ToJson() const {
  return nlohmann::json{{"key", key}, {"rows", rows}, {"hash", hash_kind}}.dump();
}

std::string ChangeDetector::Table(std::string_view suffix) const {
  return SqlIdent(options_.table_prefix + "_" + std::string(suffix));
}

std::string ChangeDetector::KeyJoin(std::string_view left, std::string_view right) const {
  std::vector<std::string> on;
  for (const auto& k : options_.primary_key) on.push_back(fmt::format("{1}.{0} = {2}.{0}", SqlIdent(k), left, right));
  return Join(on, " AND ");
}

const std::string& ChangeDetector::hash_kind() const { return index_hash_kind_; }

Result<std::unique_ptr<ChangeDetector>> ChangeDetector::Start(
    engine::Connection& connection, ChangeDetectionOptions options,
    const std::optional<std::filesystem::path>& previous_index) {
  if (options.primary_key.empty()) {
    return Status::Invalid("{} uses mode: changes, which needs primary_key: (the columns identifying a row)",
                           options.where);
  }
  std::unique_ptr<ChangeDetector> detector(new ChangeDetector(connection, std::move(options)));
  ChangeDetector& d = *detector;
  d.index_hash_kind_ = d.options_.source_hash_kind.empty() ? kPortableRowHash : d.options_.source_hash_kind;
  d.has_previous_ = previous_index.has_value();
  d.compare_hash_kind_ = d.has_previous_ ? d.options_.previous_hash_kind : d.index_hash_kind_;
  if (d.compare_hash_kind_ != kPortableRowHash && d.compare_hash_kind_ != d.index_hash_kind_) {
    return Status::Invalid(
        "{}: the change index holds row hashes the source computed ({}), which this run does not get from the source "
        "(it {}); run the pipeline once with --full-refresh to rebuild the index (every row is then loaded as an "
        "insert)",
        d.options_.where, d.compare_hash_kind_,
        d.options_.source_hash_kind.empty() ? "cannot hash rows itself now"
                                            : "hashes them as " + d.options_.source_hash_kind);
  }
  if (previous_index) {
    SLUICE_TRY(connection
                   .Execute(fmt::format("CREATE OR REPLACE TEMP VIEW {} AS SELECT * FROM read_parquet({})",
                                        d.Table("old"), SqlQuote(previous_index->string())))
                   .WithContext("loading the change index of {}", d.options_.where));
  }
  return detector;
}

bool ChangeDetector::CanDiffKeysFirst() const {
  return has_previous_ && !options_.source_hash_kind.empty() && compare_hash_kind_ == options_.source_hash_kind;
}

Status ChangeDetector::PrepareKeys(const std::string& relation) {
  SLUICE_ASSIGN_OR_RETURN(auto columns, connection_.Describe("SELECT * FROM " + SqlIdent(relation)));
  auto find = [&](const std::string& name) {
    return std::find_if(columns.begin(), columns.end(), [&](const auto& c) { return c.name == name; });
  };
  std::vector<std::string> keys, key_defs;
  for (const auto& k : options_.primary_key) {
    auto it = find(k);
    if (it == columns.end()) {
      std::vector<std::string> names;
      for (const auto& c : columns) {
        if (c.name != connectors::kSourceRowHashColumn) names.push_back(c.name);
      }
      std::string hint = NearestWord(k, names);
      return Status::Invalid(
          "primary_key column '{}' of {} is not among the source's columns{}", k, options_.where,
          hint.empty() ? fmt::format(" ({})", Join(names, ", ")) : fmt::format(" (did you mean '{}'?)", hint));
    }
    keys.push_back(SqlIdent(k));
    key_defs.push_back(SqlIdent(k) + " " + it->type);
  }
  key_list_ = Join(keys, ", ");

  std::string index_type = "BLOB";  // md5
  if (!options_.source_hash_kind.empty()) {
    auto hash = find(connectors::kSourceRowHashColumn);
    if (hash == columns.end()) {
      return Status::Internal("{}: the source said it hashes rows ({}) but delivered no {} column", options_.where,
                              options_.source_hash_kind, connectors::kSourceRowHashColumn);
    }
    index_type = hash->type;
  }
  std::string compare_type = compare_hash_kind_ == index_hash_kind_ ? index_type : "BLOB";
  SLUICE_TRY(connection_.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} ({}, _row_hash {})", Table("new"),
                                             Join(key_defs, ", "), index_type)));
  if (!has_previous_) {
    SLUICE_TRY(connection_.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} ({}, _row_hash {})", Table("old"),
                                               Join(key_defs, ", "), compare_type)));
  }
  return Status::OK();
}

Status ChangeDetector::PrepareColumns(const std::string& relation) {
  if (key_list_.empty()) SLUICE_TRY(PrepareKeys(relation));
  SLUICE_ASSIGN_OR_RETURN(auto columns, connection_.Describe("SELECT * FROM " + SqlIdent(relation)));
  columns_.clear();
  parts_carry_source_hash_ = false;
  for (auto& c : columns) {
    if (c.name == connectors::kSourceRowHashColumn) {
      parts_carry_source_hash_ = true;
    } else {
      columns_.push_back(std::move(c));
    }
  }
  auto listed = [](const std::vector<std::string>& list, const std::string& name) {
    return std::find(list.begin(), list.end(), name) != list.end();
  };
  std::vector<const engine::ColumnDescription*> compared;
  for (const auto& c : columns_) {
    if (!listed(options_.primary_key, c.name) && !listed(options_.ignore_columns, c.name)) compared.push_back(&c);
  }
  // Name order, so that reordered source columns do not count as changes.
  std::sort(compared.begin(), compared.end(), [](const auto* a, const auto* b) { return a->name < b->name; });
  std::vector<std::string> parts;
  for (const auto* c : compared) {
    std::string text = fmt::format("CAST({} AS VARCHAR)", SqlIdent(c->name));
    parts.push_back(
        fmt::format("CASE WHEN {0} IS NULL THEN 'N' ELSE CAST(length({0}) AS VARCHAR) || ':' || {0} END", text));
  }
  std::string portable = fmt::format("unhex(md5({}))", parts.empty() ? "''" : Join(parts, " || "));
  std::string from_source = SqlIdent(connectors::kSourceRowHashColumn);
  compare_hash_sql_ = compare_hash_kind_ == kPortableRowHash ? portable : from_source;
  index_hash_sql_ = options_.source_hash_kind.empty() ? portable : from_source;
  return Status::OK();
}

Result<std::string> ChangeDetector::DiffKeys(const std::string& key_hashes) {
  if (!CanDiffKeysFirst())
    return Status::Internal("{}: keys-first change detection without a matching index", options_.where);
  SLUICE_TRY(PrepareKeys(key_hashes));
  // The source's table becomes the new index as it is: a million-row copy saved.
  SLUICE_TRY(
      connection_.Execute(fmt::format("DROP TABLE {0}; ALTER TABLE {1} RENAME COLUMN {2} TO _row_hash; "
                                      "ALTER TABLE {1} RENAME TO {0}",
                                      Table("new"), SqlIdent(key_hashes), SqlIdent(connectors::kSourceRowHashColumn))));
  // One join finds inserts, updates and (when marked) deletes.
  std::vector<std::string> keys;
  for (const auto& k : options_.primary_key) keys.push_back(fmt::format("coalesce(n.{0}, o.{0}) AS {0}", SqlIdent(k)));
  SLUICE_TRY(connection_.Execute(
      fmt::format("CREATE OR REPLACE TEMP TABLE {} AS SELECT {}, CASE WHEN o._row_hash IS NULL THEN 'insert' "
                  "WHEN n._row_hash IS NULL THEN 'delete' ELSE 'update' END AS _change_type "
                  "FROM {} n {} JOIN {} o ON {} WHERE o._row_hash IS DISTINCT FROM n._row_hash",
                  Table("key_changes"), Join(keys, ", "), Table("new"), options_.mark_deletes ? "FULL" : "LEFT",
                  Table("old"), KeyJoin("n", "o"))));
  SLUICE_ASSIGN_OR_RETURN(auto counts,
                          connection_.Query(fmt::format("SELECT count(*) FILTER (WHERE _change_type = 'insert') AS i, "
                                                        "count(*) FILTER (WHERE _change_type = 'update') AS u, "
                                                        "count(*) FILTER (WHERE _change_type = 'delete') AS d FROM {}",
                                                        Table("key_changes"))));
  inserts_ = counts.GetInt(0, "i");
  updates_ = counts.GetInt(0, "u");
  deletes_ = counts.GetInt(0, "d");
  std::string changed_keys = options_.table_prefix + "_changed_keys";
  SLUICE_TRY(connection_.Execute(
      fmt::format("CREATE OR REPLACE TEMP VIEW {} AS SELECT * FROM {} WHERE _change_type <> 'delete'",
                  SqlIdent(changed_keys), Table("key_changes"))));
  keys_first_ = true;
  return changed_keys;
}

Result<std::string> ChangeDetector::DiffPart(const std::string& relation) {
  if (columns_.empty()) SLUICE_TRY(PrepareColumns(relation));
  if (keys_first_) return LabelChangedRows(relation);
  std::string hashed = Table("hashed"), changed = Table("changed");
  bool one_hash = compare_hash_sql_ == index_hash_sql_;
  std::string index_hash = one_hash ? "_compare_hash" : "_index_hash";
  SLUICE_TRY(connection_.Execute(fmt::format(
      "CREATE OR REPLACE TEMP TABLE {} AS SELECT *{}, {} AS _compare_hash{} FROM {}", hashed,
      parts_carry_source_hash_ ? fmt::format(" EXCLUDE ({})", SqlIdent(connectors::kSourceRowHashColumn)) : "",
      compare_hash_sql_, one_hash ? "" : fmt::format(", {} AS _index_hash", index_hash_sql_), SqlIdent(relation))));
  SLUICE_TRY(connection_.Execute(
      fmt::format("INSERT INTO {} SELECT {}, {} FROM {}", Table("new"), key_list_, index_hash, hashed)));
  SLUICE_TRY(connection_.Execute(
      fmt::format("CREATE OR REPLACE TEMP TABLE {} AS SELECT h.* EXCLUDE (_compare_hash{}), "
                  "CASE WHEN o._row_hash IS NULL THEN 'insert' ELSE 'update' END AS _change_type "
                  "FROM {} h LEFT JOIN {} o ON {} WHERE o._row_hash IS NULL OR o._row_hash <> h._compare_hash",
                  changed, one_hash ? "" : ", _index_hash", hashed, Table("old"), KeyJoin("h", "o"))));
  SLUICE_TRY(connection_.Execute("DROP TABLE " + hashed));
  SLUICE_ASSIGN_OR_RETURN(auto counts,
                          connection_.Query(fmt::format("SELECT count(*) FILTER (WHERE _change_type = 'insert') AS i, "
                                                        "count(*) FILTER (WHERE _change_type = 'update') AS u FROM {}",
                                                        changed)));
  inserts_ += counts.GetInt(0, "i");
  updates_ += counts.GetInt(0, "u");
  return options_.table_prefix + "_changed";
}

/// Keys first: the part holds only rows DiffKeys() found changed; each gets its label.
Result<std::string> ChangeDetector::LabelChangedRows(const std::string& relation) {
  std::string changed = Table("changed");
  SLUICE_TRY(connection_.Execute(fmt::format(
      "CREATE OR REPLACE TEMP TABLE {} AS SELECT r.* EXCLUDE ({}), c._change_type FROM {} r JOIN {} c ON {}", changed,
      SqlIdent(connectors::kSourceRowHashColumn), SqlIdent(relation), SqlIdent(options_.table_prefix + "_changed_keys"),
      KeyJoin("r", "c"))));
  return options_.table_prefix + "_changed";
}

Result<std::string> ChangeDetector::FinishDeletes() {
  if (columns_.empty()) return std::string();
  if (options_.source_keys_unique) {
    SLUICE_ASSIGN_OR_RETURN(auto count, connection_.Query("SELECT count(*) AS n FROM " + Table("new")));
    index_rows_ = count.GetInt(0, "n");
  } else {
    std::vector<std::string> nulls;
    for (const auto& k : options_.primary_key) nulls.push_back(SqlIdent(k) + " IS NULL");
    SLUICE_ASSIGN_OR_RETURN(
        auto check, connection_.Query(fmt::format(
                        "SELECT (SELECT count(*) FROM {0}) AS n, (SELECT count(*) FROM {0} WHERE {1}) AS nulls, "
                        "(SELECT CAST(row({2}) AS VARCHAR) FROM {0} GROUP BY {2} HAVING count(*) > 1 LIMIT 1) AS dup",
                        Table("new"), Join(nulls, " OR "), key_list_)));
    index_rows_ = check.GetInt(0, "n");
    if (check.GetInt(0, "nulls") > 0) {
      return Status::DataError(
          "{}: {} rows have a NULL in primary_key ({}); mode: changes needs a key that identifies every row",
          options_.where, check.GetInt(0, "nulls"), Join(options_.primary_key, ", "));
    }
    if (!check.Get(0, "dup").empty()) {
      return Status::DataError(
          "{}: the source delivered primary key {} = {} more than once; mode: changes needs a unique "
          "primary_key (fix the key, or list more columns in primary_key:)",
          options_.where, Join(options_.primary_key, ", "), check.Get(0, "dup"));
    }
  }
  if (!options_.mark_deletes) return std::string();
  std::vector<std::string> select;
  for (const auto& c : columns_) {
    bool is_key =
        std::find(options_.primary_key.begin(), options_.primary_key.end(), c.name) != options_.primary_key.end();
    select.push_back(fmt::format("CAST({} AS {}) AS {}", is_key ? "o." + SqlIdent(c.name) : std::string("NULL"), c.type,
                                 SqlIdent(c.name)));
  }
  std::string deleted = Table("deleted");
  if (keys_first_) {  // DiffKeys() found them
    SLUICE_TRY(
        connection_.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS SELECT {}, 'delete' AS _change_type FROM "
                                        "{} o WHERE _change_type = 'delete'",
                                        deleted, Join(select, ", "), Table("key_changes"))));
  } else {
    SLUICE_TRY(connection_.Execute(
        fmt::format("CREATE OR REPLACE TEMP TABLE {} AS SELECT {}, 'delete' AS _change_type FROM {} o "
                    "WHERE NOT EXISTS (SELECT 1 FROM {} n WHERE {})",
                    deleted, Join(select, ", "), Table("old"), Table("new"), KeyJoin("n", "o"))));
    SLUICE_ASSIGN_OR_RETURN(auto count, connection_.Query("SELECT count(*) AS n FROM " + deleted));
    deletes_ = count.GetInt(0, "n");
  }
  if (deletes_ == 0) return std::string();
  return options_.table_prefix + "_deleted";
}

Status ChangeDetector::WriteIndex(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  return connection_.Execute(
      fmt::format("COPY {} TO {} (FORMAT parquet, COMPRESSION zstd)", Table("new"), SqlQuote(path.string())));
}

}  // namespace sluice::pipeline
