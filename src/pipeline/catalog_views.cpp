#include "pipeline/catalog_views.hpp"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>

#include "common/strings.hpp"

namespace sluice::pipeline {

Result<std::string> TableScanSql(catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                                 const catalog::TableInfo& table, std::optional<int64_t> as_of,
                                 storage::ReadThroughCache* cache) {
  SLUICE_ASSIGN_OR_RETURN(auto files, catalog.ListFiles(table.name, as_of));
  return FilesScanSql(lake, table, files, cache);
}

Result<std::string> FilesScanSql(storage::ObjectStore& lake, const catalog::TableInfo& table,
                                 const std::vector<catalog::DataFile>& files, storage::ReadThroughCache* cache,
                                 SourceFileColumn source_file) {
  bool add_source_file = source_file == SourceFileColumn::kAddWhenMissing;
  for (const auto& c : table.schema.columns) {
    // A column called `filename` would clash with the one DuckDB adds to name each row's file.
    if (c.name == "_source_file" || c.name == "filename") add_source_file = false;
  }
  if (files.empty()) {
    // An empty table still has its columns, so queries bind.
    std::vector<std::string> columns;
    for (const auto& c : table.schema.columns) {
      columns.push_back(fmt::format("CAST(NULL AS {}) AS {}", c.type, SqlIdent(c.name)));
    }
    if (add_source_file) columns.push_back("CAST(NULL AS VARCHAR) AS _source_file");
    if (columns.empty()) columns.push_back("NULL AS _empty");
    return fmt::format("SELECT {} WHERE false", Join(columns, ", "));
  }
  std::vector<std::string> paths, lake_keys;
  for (const auto& f : files) {
    auto local = lake.LocalPath(f.path);
    if (!local && cache != nullptr) {  // remote lake: read through the local cache
      auto fetched = cache->Fetch(lake, f.path);
      if (!fetched.ok()) {
        return Status(fetched.status().code(),
                      fmt::format("table {}: cannot fetch {} from {}: {}", table.name.ToString(), f.path,
                                  lake.Describe(), fetched.status().message()),
                      fetched.status().retryable());
      }
      local = *fetched;
    }
    if (!local) {
      return Status::Invalid("table {} lives in {}, which cannot be queried without a read cache",
                             table.name.ToString(), lake.Describe());
    }
    paths.push_back(SqlQuote(local->string()));
    lake_keys.push_back(fmt::format("({}, {})", paths.back(), SqlQuote(f.path)));
  }
  if (!add_source_file) {
    return fmt::format("SELECT * FROM read_parquet([{}], hive_partitioning = true, union_by_name = true)",
                       Join(paths, ", "));
  }
  // The local path (a cache copy for a remote lake) is mapped back to the file's key in the lake.
  return fmt::format(
      "SELECT scanned.* EXCLUDE (filename), lake_files.lake_key AS _source_file FROM read_parquet([{}], "
      "hive_partitioning = true, union_by_name = true, filename = true) AS scanned JOIN (VALUES {}) AS "
      "lake_files(local_path, lake_key) ON scanned.filename = lake_files.local_path",
      Join(paths, ", "), Join(lake_keys, ", "));
}

namespace {

/// Creates the view zone.table over `scan`; a failure is logged, not returned: one damaged table
/// must not take every other table's queries down with it.
void CreateTableView(engine::Connection& connection, const catalog::TableInfo& table, const std::string& scan) {
  Status st = connection.Execute(
      fmt::format("CREATE OR REPLACE VIEW {}.{} AS {}", SqlIdent(table.name.zone), SqlIdent(table.name.name), scan));
  if (!st.ok())
    spdlog::warn("table {} cannot be read and is left out of this query: {}", table.name.ToString(), st.message());
}

Status CreateZoneSchemas(engine::Connection& connection, const std::vector<catalog::TableInfo>& tables) {
  std::set<std::string> zones;
  for (const auto& t : tables) {
    if (zones.insert(t.name.zone).second) {
      SLUICE_TRY(connection.Execute(fmt::format("CREATE SCHEMA IF NOT EXISTS {}", SqlIdent(t.name.zone))));
    }
  }
  return Status::OK();
}

std::optional<int64_t> VersionOf(const catalog::TableInfo& table, std::optional<int64_t> as_of) {
  if (as_of && *as_of > table.current_version) return table.current_version;
  return as_of;
}

}  // namespace

Status BindCatalogViews(engine::Connection& connection, catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                        std::optional<int64_t> as_of, storage::ReadThroughCache* cache) {
  SLUICE_ASSIGN_OR_RETURN(auto tables, catalog.ListTables());
  SLUICE_TRY(CreateZoneSchemas(connection, tables));
  for (const auto& t : tables) {
    SLUICE_ASSIGN_OR_RETURN(auto scan, TableScanSql(catalog, lake, t, VersionOf(t, as_of), cache));
    CreateTableView(connection, t, scan);
  }
  return Status::OK();
}

Status BindQueryViews(engine::Connection& connection, catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                      const ScanPlan& plan, std::optional<int64_t> as_of, storage::ReadThroughCache* cache) {
  if (!plan.parsed) return BindCatalogViews(connection, catalog, lake, as_of, cache);
  SLUICE_ASSIGN_OR_RETURN(auto tables, catalog.ListTables());
  SLUICE_TRY(CreateZoneSchemas(connection, tables));
  const bool local_lake = lake.LocalPath("x").has_value();
  for (const auto& t : tables) {
    auto planned = std::find_if(plan.tables.begin(), plan.tables.end(),
                                [&](const TableScan& scan) { return scan.table.name == t.name; });
    std::string scan;
    if (planned != plan.tables.end()) {
      SLUICE_ASSIGN_OR_RETURN(scan, FilesScanSql(lake, t, planned->files, cache));
    } else if (local_lake) {
      SLUICE_ASSIGN_OR_RETURN(scan, TableScanSql(catalog, lake, t, VersionOf(t, as_of), cache));
    } else {
      continue;  // a remote table the query does not read is not fetched
    }
    CreateTableView(connection, t, scan);
  }
  return Status::OK();
}

namespace {

std::string RegexEscape(const std::string& text) {
  static const std::regex kSpecial(R"re([.^$|()\[\]{}*+?\\])re");
  return std::regex_replace(text, kSpecial, R"re(\$&)re");
}

/// `zone.table`, either part optionally double-quoted, not part of a longer name.
bool MentionsTable(const std::string& sql, const catalog::TableName& name) {
  std::regex pattern(R"re((^|[^\w."])"?)re" + RegexEscape(name.zone) + R"re("?\s*\.\s*"?)re" + RegexEscape(name.name) +
                         R"re("?($|[^\w"]))re",
                     std::regex::icase);
  return std::regex_search(sql, pattern);
}

using Json = nlohmann::json;
/// Allowed values of restricted partition columns (lower-case names); other columns are unrestricted.
using Restrictions = std::map<std::string, std::set<std::string>>;

/// One place a query reads a table (a BASE_TABLE node of DuckDB's parse tree).
struct TableRead {
  std::string zone, table;  // lower case
  Restrictions restrictions;
};

/// `node[key]`, or null when absent (a const json's operator[] must not be asked for a missing key).
const Json& Field(const Json& node, const char* key) {
  static const Json kAbsent;
  auto it = node.find(key);
  return it != node.end() ? *it : kAbsent;
}

std::string TextField(const Json& node, const char* key) {
  const Json& field = Field(node, key);
  return field.is_string() ? field.get<std::string>() : std::string();
}

/// A constant's value as text; nullopt for NULL and for types whose serialised form is not their
/// text (decimals are scaled integers, huge integers are split).
std::optional<std::string> ConstantText(const Json& e) {
  if (!e.is_object() || TextField(e, "class") != "CONSTANT") return std::nullopt;
  const Json& value = Field(e, "value");
  if (!value.is_object() || value.value("is_null", true)) return std::nullopt;
  static const std::set<std::string> kExact = {"VARCHAR",  "TINYINT",   "SMALLINT", "INTEGER", "BIGINT",
                                               "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"};
  const Json& type = Field(value, "type");
  if (!type.is_object() || kExact.count(TextField(type, "id")) == 0) return std::nullopt;
  const Json& v = Field(value, "value");
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return v.dump();
  return std::nullopt;
}

/// {qualifier, column} of a column reference ("" qualifier when unqualified); nullopt otherwise.
std::optional<std::pair<std::string, std::string>> ColumnRef(const Json& e) {
  if (!e.is_object() || TextField(e, "class") != "COLUMN_REF") return std::nullopt;
  const Json& names = Field(e, "column_names");
  if (!names.is_array() || names.empty() || names.size() > 2) return std::nullopt;
  for (const auto& n : names) {
    if (!n.is_string()) return std::nullopt;
  }
  if (names.size() == 1) return std::make_pair(std::string(), ToLower(names[0].get<std::string>()));
  return std::make_pair(ToLower(names[0].get<std::string>()), ToLower(names[1].get<std::string>()));
}

/// A condition restricting one column to constants: col = v, v = col, col IN (v, ...).
struct ColumnRestriction {
  std::string qualifier, column;
  std::set<std::string> values;
};

std::optional<ColumnRestriction> RestrictionOf(const Json& e) {
  if (!e.is_object()) return std::nullopt;
  const std::string type = TextField(e, "type");
  if (TextField(e, "class") == "COMPARISON" && type == "COMPARE_EQUAL") {
    for (const auto& [col_side, value_side] : {std::pair{"left", "right"}, std::pair{"right", "left"}}) {
      auto column = ColumnRef(Field(e, col_side));
      auto value = ConstantText(Field(e, value_side));
      if (column && value) return ColumnRestriction{column->first, column->second, {*value}};
    }
    return std::nullopt;
  }
  if (TextField(e, "class") == "OPERATOR" && type == "COMPARE_IN") {
    const Json& children = Field(e, "children");
    if (!children.is_array() || children.size() < 2) return std::nullopt;
    auto column = ColumnRef(children[0]);
    if (!column) return std::nullopt;
    ColumnRestriction r{column->first, column->second, {}};
    for (size_t i = 1; i < children.size(); ++i) {
      auto value = ConstantText(children[i]);
      if (!value) return std::nullopt;
      r.values.insert(*value);
    }
    return r;
  }
  return std::nullopt;
}

/// The conditions a WHERE clause is the AND of.
void Conjuncts(const Json& e, std::vector<const Json*>& out) {
  if (!e.is_object()) return;
  if (TextField(e, "class") == "CONJUNCTION" && TextField(e, "type") == "CONJUNCTION_AND") {
    for (const auto& child : Field(e, "children")) Conjuncts(child, out);
    return;
  }
  out.push_back(&e);
}

/// The tables of a FROM that is one table or inner joins of tables; false for anything else
/// (outer joins, subqueries, table functions), whose WHERE cannot be pushed to one table this simply.
bool InnerJoinedTables(const Json& from, std::vector<const Json*>& tables) {
  if (!from.is_object()) return false;
  const std::string type = TextField(from, "type");
  if (type == "BASE_TABLE") {
    tables.push_back(&from);
    return true;
  }
  if (type != "JOIN" || TextField(from, "join_type") != "INNER") return false;
  const std::string ref = TextField(from, "ref_type");
  if (ref != "REGULAR" && ref != "CROSS") return false;
  return InnerJoinedTables(Field(from, "left"), tables) && InnerJoinedTables(Field(from, "right"), tables);
}

/// Every table read of a parse tree, with the restrictions its SELECT's WHERE puts on it.
void CollectTableReads(const Json& node, std::set<const Json*>& handled, std::vector<TableRead>& reads) {
  if (node.is_array()) {
    for (const auto& child : node) CollectTableReads(child, handled, reads);
    return;
  }
  if (!node.is_object()) return;
  const std::string type = TextField(node, "type");
  if (type == "SELECT_NODE" && node.contains("from_table")) {
    std::vector<const Json*> tables;
    if (InnerJoinedTables(Field(node, "from_table"), tables)) {
      std::vector<const Json*> conditions;
      if (node.contains("where_clause")) Conjuncts(Field(node, "where_clause"), conditions);
      std::vector<ColumnRestriction> restrictions;
      for (const Json* c : conditions) {
        if (auto r = RestrictionOf(*c)) restrictions.push_back(std::move(*r));
      }
      for (const Json* t : tables) {
        TableRead read{ToLower(TextField(*t, "schema_name")), ToLower(TextField(*t, "table_name")), {}};
        std::string alias = ToLower(TextField(*t, "alias"));
        const std::string& known_as = alias.empty() ? read.table : alias;
        for (const auto& r : restrictions) {
          // Unqualified columns belong to this table only when it is the FROM's only table.
          bool applies = r.qualifier.empty() ? tables.size() == 1 : r.qualifier == known_as;
          if (!applies) continue;
          auto [it, inserted] = read.restrictions.emplace(r.column, r.values);
          if (!inserted) {  // two conditions on one column: both hold
            std::set<std::string> both;
            for (const auto& v : it->second) {
              if (r.values.count(v) > 0) both.insert(v);
            }
            it->second = std::move(both);
          }
        }
        reads.push_back(std::move(read));
        handled.insert(t);
      }
    }
  }
  if (type == "BASE_TABLE" && handled.count(&node) == 0) {
    reads.push_back({ToLower(TextField(node, "schema_name")), ToLower(TextField(node, "table_name")), {}});
  }
  for (const auto& child : node) CollectTableReads(child, handled, reads);
}

std::optional<double> AsNumber(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return value;
}

/// Whether a partition folder's value can equal a constant of the query: DuckDB types hive values
/// ("month=01" may read as the number 1), so numbers compare as numbers.
bool MayEqual(const std::string& partition_value, const std::string& constant) {
  if (partition_value == constant) return true;
  auto a = AsNumber(partition_value), b = AsNumber(constant);
  return a && b && *a == *b;
}

/// Restrictions that hold at every read of the table: a column restricted by all reads, to the union
/// of their values.
Restrictions CombinedRestrictions(const std::vector<const TableRead*>& reads) {
  Restrictions combined = reads.front()->restrictions;
  for (size_t i = 1; i < reads.size(); ++i) {
    for (auto it = combined.begin(); it != combined.end();) {
      auto other = reads[i]->restrictions.find(it->first);
      if (other == reads[i]->restrictions.end()) {
        it = combined.erase(it);
        continue;
      }
      it->second.insert(other->second.begin(), other->second.end());
      ++it;
    }
  }
  return combined;
}

bool Excluded(const catalog::DataFile& file, const Restrictions& restrictions) {
  for (const auto& [column, value] : file.partition_values) {
    auto r = restrictions.find(ToLower(column));
    if (r == restrictions.end()) continue;
    bool any = std::any_of(r->second.begin(), r->second.end(),
                           [&value = value](const std::string& v) { return MayEqual(value, v); });
    if (!any) return true;
  }
  return false;
}

}  // namespace

Result<ScanPlan> PlanScan(engine::Connection& connection, catalog::MetadataStore& catalog, const std::string& sql,
                          std::optional<int64_t> as_of) {
  ScanPlan plan;
  // A statement the serializer refuses is planned from its text; the query itself then reports it.
  auto serialized = connection.Query(fmt::format("SELECT json_serialize_sql({}) AS tree", SqlQuote(sql)));
  Json tree;
  if (serialized.ok()) tree = Json::parse(serialized->Get(0, "tree"), nullptr, /*allow_exceptions=*/false);
  std::vector<TableRead> reads;
  if (tree.is_object() && tree.value("error", true) == false) {
    plan.parsed = true;
    std::set<const Json*> handled;
    CollectTableReads(Field(tree, "statements"), handled, reads);
  }
  SLUICE_ASSIGN_OR_RETURN(auto tables, catalog.ListTables());
  for (const auto& table : tables) {
    std::vector<const TableRead*> table_reads;
    for (const auto& r : reads) {
      if (r.zone == ToLower(table.name.zone) && r.table == ToLower(table.name.name)) table_reads.push_back(&r);
    }
    if (plan.parsed ? table_reads.empty() : !MentionsTable(sql, table.name)) continue;
    Restrictions restrictions;
    if (!table_reads.empty()) restrictions = CombinedRestrictions(table_reads);
    TableScan scan;
    scan.table = table;
    SLUICE_ASSIGN_OR_RETURN(auto files, catalog.ListFiles(table.name, VersionOf(table, as_of)));
    for (auto& f : files) {
      if (Excluded(f, restrictions)) {
        ++scan.files_pruned;
      } else {
        scan.files.push_back(std::move(f));
      }
    }
    plan.tables.push_back(std::move(scan));
  }
  return plan;
}

ScanEstimate EstimateScan(const ScanPlan& plan) {
  ScanEstimate estimate;
  for (const auto& scan : plan.tables) {
    estimate.tables.push_back(scan.table.name.ToString());
    estimate.files += static_cast<int64_t>(scan.files.size());
    estimate.files_pruned += scan.files_pruned;
    for (const auto& f : scan.files) estimate.bytes += static_cast<uint64_t>(f.bytes);
  }
  return estimate;
}

}  // namespace sluice::pipeline
