#include "pipeline/change_detection.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/strings.hpp"

namespace sluice::pipeline {

Result<ChangeIndexRef> ChangeIndexRef::Parse(const std::string& state_json) {
  ChangeIndexRef ref;
  if (state_json.empty() || state_json == "{}") return ref;
  try {
    auto json = nlohmann::json::parse(state_json);
    ref.key = json.value("key", "");
    ref.rows = json.value("rows", int64_t{0});
  } catch (const std::exception& e) {
    return Status::DataError("the stored change index reference is not valid JSON ({}); run with --full-refresh to rebuild it",
                             e.what());
  }
  return ref;
}

std::string ChangeIndexRef::ToJson() const { return nlohmann::json{{"key", key}, {"rows", rows}}.dump(); }

std::string ChangeDetector::Table(std::string_view suffix) const { return SqlIdent(options_.table_prefix + "_" + std::string(suffix)); }

Result<std::unique_ptr<ChangeDetector>> ChangeDetector::Start(engine::Connection& connection,
                                                              ChangeDetectionOptions options,
                                                              const std::optional<std::filesystem::path>& previous_index) {
  if (options.primary_key.empty()) {
    return Status::Invalid("{} uses mode: changes, which needs primary_key: (the columns identifying a row)", options.where);
  }
  std::unique_ptr<ChangeDetector> detector(new ChangeDetector(connection, std::move(options)));
  if (previous_index) {
    SLUICE_TRY(connection.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS SELECT * FROM read_parquet({})",
                                              detector->Table("old"), SqlQuote(previous_index->string())))
                   .WithContext("loading the change index of {}", detector->options_.where));
  }
  return detector;
}

Status ChangeDetector::PrepareColumns(const std::string& relation) {
  SLUICE_ASSIGN_OR_RETURN(columns_, connection_.Describe("SELECT * FROM " + SqlIdent(relation)));
  std::vector<std::string> keys, key_defs;
  for (const auto& k : options_.primary_key) {
    auto it = std::find_if(columns_.begin(), columns_.end(), [&](const auto& c) { return c.name == k; });
    if (it == columns_.end()) {
      std::vector<std::string> names;
      for (const auto& c : columns_) names.push_back(c.name);
      std::string hint = NearestWord(k, names);
      return Status::Invalid("primary_key column '{}' of {} is not among the source's columns{}", k, options_.where,
                             hint.empty() ? fmt::format(" ({})", Join(names, ", ")) : fmt::format(" (did you mean '{}'?)", hint));
    }
    keys.push_back(SqlIdent(k));
    key_defs.push_back(SqlIdent(k) + " " + it->type);
  }
  key_list_ = Join(keys, ", ");

  std::vector<const engine::ColumnDescription*> compared;
  for (const auto& c : columns_) {
    bool skip = std::find(options_.primary_key.begin(), options_.primary_key.end(), c.name) != options_.primary_key.end() ||
                std::find(options_.ignore_columns.begin(), options_.ignore_columns.end(), c.name) !=
                    options_.ignore_columns.end();
    if (!skip) compared.push_back(&c);
  }
  // Name order, so that reordered source columns do not count as changes.
  std::sort(compared.begin(), compared.end(), [](const auto* a, const auto* b) { return a->name < b->name; });
  std::vector<std::string> parts;
  for (const auto* c : compared) {
    std::string text = fmt::format("CAST({} AS VARCHAR)", SqlIdent(c->name));
    parts.push_back(fmt::format("CASE WHEN {0} IS NULL THEN 'N' ELSE CAST(length({0}) AS VARCHAR) || ':' || {0} END", text));
  }
  std::string encoding = parts.empty() ? "''" : Join(parts, " || ");
  hash_sql_ = fmt::format("unhex(md5({}))", encoding);

  SLUICE_TRY(connection_.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} ({}, _row_hash BLOB)", Table("new"),
                                             Join(key_defs, ", "))));
  SLUICE_ASSIGN_OR_RETURN(auto old, connection_.Query(fmt::format(
                                        "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = {}",
                                        SqlQuote(options_.table_prefix + "_old"))));
  if (old.GetInt(0, "n") == 0) {
    SLUICE_TRY(connection_.Execute(fmt::format("CREATE TEMP TABLE {} ({}, _row_hash BLOB)", Table("old"), Join(key_defs, ", "))));
  }
  return Status::OK();
}

Result<std::string> ChangeDetector::DiffPart(const std::string& relation) {
  if (columns_.empty()) SLUICE_TRY(PrepareColumns(relation));
  std::string hashed = Table("hashed"), changed = Table("changed");
  std::vector<std::string> on;
  for (const auto& k : options_.primary_key) on.push_back(fmt::format("h.{0} = o.{0}", SqlIdent(k)));
  SLUICE_TRY(connection_.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS SELECT *, {} AS _row_hash FROM {}",
                                             hashed, hash_sql_, SqlIdent(relation))));
  SLUICE_TRY(connection_.Execute(fmt::format("INSERT INTO {} SELECT {}, _row_hash FROM {}", Table("new"), key_list_, hashed)));
  SLUICE_TRY(connection_.Execute(fmt::format(
      "CREATE OR REPLACE TEMP TABLE {} AS SELECT h.* EXCLUDE (_row_hash), "
      "CASE WHEN o._row_hash IS NULL THEN 'insert' ELSE 'update' END AS _change_type "
      "FROM {} h LEFT JOIN {} o ON {} WHERE o._row_hash IS NULL OR o._row_hash <> h._row_hash",
      changed, hashed, Table("old"), Join(on, " AND "))));
  SLUICE_TRY(connection_.Execute("DROP TABLE " + hashed));
  SLUICE_ASSIGN_OR_RETURN(auto counts, connection_.Query(fmt::format(
                                           "SELECT count(*) FILTER (WHERE _change_type = 'insert') AS i, "
                                           "count(*) FILTER (WHERE _change_type = 'update') AS u FROM {}",
                                           changed)));
  inserts_ += counts.GetInt(0, "i");
  updates_ += counts.GetInt(0, "u");
  return options_.table_prefix + "_changed";
}

Result<std::string> ChangeDetector::FinishDeletes() {
  if (columns_.empty()) return std::string();
  std::vector<std::string> nulls;
  for (const auto& k : options_.primary_key) nulls.push_back(SqlIdent(k) + " IS NULL");
  SLUICE_ASSIGN_OR_RETURN(
      auto check, connection_.Query(fmt::format(
                      "SELECT (SELECT count(*) FROM {0}) AS n, (SELECT count(*) FROM {0} WHERE {1}) AS nulls, "
                      "(SELECT CAST(row({2}) AS VARCHAR) FROM {0} GROUP BY {2} HAVING count(*) > 1 LIMIT 1) AS dup",
                      Table("new"), Join(nulls, " OR "), key_list_)));
  index_rows_ = check.GetInt(0, "n");
  if (check.GetInt(0, "nulls") > 0) {
    return Status::DataError("{}: {} rows have a NULL in primary_key ({}); mode: changes needs a key that identifies every row",
                             options_.where, check.GetInt(0, "nulls"), Join(options_.primary_key, ", "));
  }
  if (!check.Get(0, "dup").empty()) {
    return Status::DataError("{}: the source delivered primary key {} = {} more than once; mode: changes needs a unique "
                             "primary_key (fix the key, or list more columns in primary_key:)",
                             options_.where, Join(options_.primary_key, ", "), check.Get(0, "dup"));
  }
  if (!options_.mark_deletes) return std::string();
  std::vector<std::string> select, on;
  for (const auto& c : columns_) {
    bool is_key = std::find(options_.primary_key.begin(), options_.primary_key.end(), c.name) != options_.primary_key.end();
    select.push_back(fmt::format("CAST({} AS {}) AS {}", is_key ? "o." + SqlIdent(c.name) : std::string("NULL"), c.type,
                                 SqlIdent(c.name)));
  }
  for (const auto& k : options_.primary_key) on.push_back(fmt::format("n.{0} = o.{0}", SqlIdent(k)));
  std::string deleted = Table("deleted");
  SLUICE_TRY(connection_.Execute(fmt::format(
      "CREATE OR REPLACE TEMP TABLE {} AS SELECT {}, 'delete' AS _change_type FROM {} o "
      "WHERE NOT EXISTS (SELECT 1 FROM {} n WHERE {})",
      deleted, Join(select, ", "), Table("old"), Table("new"), Join(on, " AND "))));
  SLUICE_ASSIGN_OR_RETURN(auto count, connection_.Query("SELECT count(*) AS n FROM " + deleted));
  deletes_ = count.GetInt(0, "n");
  if (deletes_ == 0) return std::string();
  return options_.table_prefix + "_deleted";
}

Status ChangeDetector::WriteIndex(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  return connection_.Execute(fmt::format("COPY {} TO {} (FORMAT parquet, COMPRESSION zstd)", Table("new"),
                                         SqlQuote(path.string())));
}

}  // namespace sluice::pipeline
