#include "connectors/postgres/pg_types.hpp"

#include <libpq-fe.h>

#include <map>
#include <set>

#include "common/strings.hpp"

namespace sluice::postgres {
namespace {

using engine::AppendColumn;
using engine::ColumnKind;

// Built-in type OIDs (pg_type.dat); stable across PostgreSQL versions.
constexpr uint32_t kBoolOid = 16;
constexpr uint32_t kByteaOid = 17;
constexpr uint32_t kCharOid = 18;
constexpr uint32_t kNameOid = 19;
constexpr uint32_t kInt8Oid = 20;
constexpr uint32_t kInt2Oid = 21;
constexpr uint32_t kInt4Oid = 23;
constexpr uint32_t kTextOid = 25;
constexpr uint32_t kOidOid = 26;
constexpr uint32_t kJsonOid = 114;
constexpr uint32_t kXmlOid = 142;
constexpr uint32_t kFloat4Oid = 700;
constexpr uint32_t kFloat8Oid = 701;
constexpr uint32_t kBpcharOid = 1042;
constexpr uint32_t kVarcharOid = 1043;
constexpr uint32_t kDateOid = 1082;
constexpr uint32_t kTimeOid = 1083;
constexpr uint32_t kTimestampOid = 1114;
constexpr uint32_t kTimestampTzOid = 1184;
constexpr uint32_t kIntervalOid = 1186;
constexpr uint32_t kNumericOid = 1700;
constexpr uint32_t kUuidOid = 2950;
constexpr uint32_t kJsonbOid = 3802;

struct TypeInfo {
  std::string name;
  char typtype = 'b';  // b base, d domain, e enum, c composite, r range, p pseudo, m multirange
  uint32_t elem = 0;
  uint32_t base = 0;
  int32_t typtypmod = -1;
  std::string send;  // name of the binary send function
};

using TypeCatalog = std::map<uint32_t, TypeInfo>;

uint32_t ParseOid(const std::string& text) { return static_cast<uint32_t>(std::stoul(text)); }

/// Loads pg_type rows for `oids` and, transitively, for the element and base types they name.
Status LoadTypes(PgClient& client, std::set<uint32_t> wanted, TypeCatalog* catalog) {
  for (int round = 0; round < 8 && !wanted.empty(); ++round) {
    std::vector<std::string> ids;
    for (uint32_t oid : wanted) ids.push_back(std::to_string(oid));
    SLUICE_ASSIGN_OR_RETURN(
        TextRows rows,
        client.QueryParams("SELECT t.oid::int8 AS oid, t.typname, t.typtype, t.typelem::int8 AS elem, "
                           "t.typbasetype::int8 AS base, t.typtypmod, p.proname AS send "
                           "FROM pg_catalog.pg_type t LEFT JOIN pg_catalog.pg_proc p ON p.oid = t.typsend "
                           "WHERE t.oid = ANY($1::oid[])",
                           {"{" + Join(ids, ",") + "}"}));
    wanted.clear();
    try {
      for (size_t r = 0; r < rows.rows.size(); ++r) {
        TypeInfo info;
        info.name = rows.Get(r, "typname");
        std::string typtype = rows.Get(r, "typtype");
        info.typtype = typtype.empty() ? 'b' : typtype[0];
        info.elem = ParseOid(rows.Get(r, "elem"));
        info.base = ParseOid(rows.Get(r, "base"));
        info.typtypmod = std::stoi(rows.Get(r, "typtypmod"));
        info.send = rows.Get(r, "send");
        for (uint32_t next : {info.elem, info.base}) {
          if (next != 0 && catalog->count(next) == 0) wanted.insert(next);
        }
        (*catalog)[ParseOid(rows.Get(r, "oid"))] = std::move(info);
      }
    } catch (const std::exception& e) {
      return Status::Internal("PostgreSQL {}: unexpected pg_type row: {}", client.endpoint(), e.what());
    }
    for (auto it = wanted.begin(); it != wanted.end();) it = catalog->count(*it) ? wanted.erase(it) : std::next(it);
  }
  return Status::OK();
}

struct Scalar {
  WireType wire;
  AppendColumn target;
};

bool TextLikeSend(const std::string& send) {
  return send == "textsend" || send == "varcharsend" || send == "bpcharsend" || send == "namesend" ||
         send == "charsend" || send == "citextsend" || send == "enum_send" || send == "xml_send";
}

/// The wire format and DuckDB column of a non-array type, or nullopt when unsupported.
std::optional<Scalar> ResolveScalar(const TypeCatalog& catalog, uint32_t oid, int32_t typmod) {
  // Domains travel in their base type's format; their typmod applies when the column has none.
  for (int depth = 0; depth < 16; ++depth) {
    auto it = catalog.find(oid);
    if (it == catalog.end() || it->second.typtype != 'd') break;
    if (typmod < 0) typmod = it->second.typtypmod;
    oid = it->second.base;
  }
  auto make = [](WireType wire, ColumnKind kind) { return Scalar{wire, AppendColumn{"", kind}}; };
  switch (oid) {
    case kBoolOid: return make(WireType::kBool, ColumnKind::kBool);
    case kInt2Oid: return make(WireType::kInt2, ColumnKind::kInt16);
    case kInt4Oid: return make(WireType::kInt4, ColumnKind::kInt32);
    case kInt8Oid: return make(WireType::kInt8, ColumnKind::kInt64);
    case kOidOid: return make(WireType::kOid, ColumnKind::kInt64);
    case kFloat4Oid: return make(WireType::kFloat4, ColumnKind::kFloat);
    case kFloat8Oid: return make(WireType::kFloat8, ColumnKind::kDouble);
    case kTextOid:
    case kVarcharOid:
    case kBpcharOid:
    case kNameOid:
    case kCharOid:
    case kXmlOid: return make(WireType::kText, ColumnKind::kVarchar);
    case kJsonOid: return make(WireType::kJson, ColumnKind::kJson);
    case kJsonbOid: return make(WireType::kJsonb, ColumnKind::kJson);
    case kByteaOid: return make(WireType::kBytea, ColumnKind::kBlob);
    case kDateOid: return make(WireType::kDate, ColumnKind::kDate);
    case kTimeOid: return make(WireType::kTime, ColumnKind::kTime);
    case kTimestampOid: return make(WireType::kTimestamp, ColumnKind::kTimestamp);
    case kTimestampTzOid: return make(WireType::kTimestampTz, ColumnKind::kTimestampTz);
    case kIntervalOid: return make(WireType::kInterval, ColumnKind::kInterval);
    case kUuidOid: return make(WireType::kUuid, ColumnKind::kUuid);
    case kNumericOid: {
      int precision = 0;
      int scale = 0;
      // Plain `numeric` has no fixed scale, and wide ones do not fit DuckDB's 38 digits: both are
      // kept exactly, as text, rather than rounded into a DOUBLE.
      if (!DecodeNumericTypmod(typmod, &precision, &scale)) return make(WireType::kNumeric, ColumnKind::kVarchar);
      // PostgreSQL 15 allows scale < 0 (numeric(2,-3): 99000) and scale > precision
      // (numeric(2,5): 0.00099); widen to a DuckDB DECIMAL that holds every such value.
      int width = scale < 0 ? precision - scale : std::max(precision, scale);
      int duck_scale = std::max(scale, 0);
      if (width > 38) return make(WireType::kNumeric, ColumnKind::kVarchar);
      return Scalar{WireType::kNumeric, AppendColumn{"", ColumnKind::kDecimal, width, duck_scale}};
    }
    default: break;
  }
  auto it = catalog.find(oid);
  if (it != catalog.end() && (it->second.typtype == 'e' || TextLikeSend(it->second.send))) {
    return make(WireType::kText, ColumnKind::kVarchar);
  }
  return std::nullopt;
}

/// Fills the wire types and target of `column` from its OID and typmod.
Status ResolveColumn(const TypeCatalog& catalog, const TypeMappingOptions& options, PgColumn* column) {
  uint32_t oid = column->type_oid;
  int32_t typmod = column->typmod;
  for (int depth = 0; depth < 16; ++depth) {  // a domain over an array type is still an array
    auto it = catalog.find(oid);
    if (it == catalog.end() || it->second.typtype != 'd') break;
    if (typmod < 0) typmod = it->second.typtypmod;
    oid = it->second.base;
  }
  auto it = catalog.find(oid);
  bool is_array = it != catalog.end() && it->second.send == "array_send" && it->second.elem != 0;
  if (is_array) {
    // An array column's typmod is its elements' (numeric(10,2)[]).
    if (auto element = ResolveScalar(catalog, it->second.elem, typmod)) {
      column->wire = WireType::kArray;
      column->element_wire = element->wire;
      column->target = AppendColumn{column->name, ColumnKind::kList};
      column->target.element.push_back(std::move(element->target));
      return Status::OK();
    }
  } else if (auto scalar = ResolveScalar(catalog, oid, typmod)) {
    column->wire = scalar->wire;
    column->target = std::move(scalar->target);
    column->target.name = column->name;
    return Status::OK();
  }
  if (!options.cast_unsupported_to_text) {
    return Status::Invalid(
        "column '{}' has PostgreSQL type {} which sluice cannot load as a typed column; set "
        "cast_unsupported_to_text: true to load it as text, or cast it in the query ({}::text)",
        column->name, column->type_name, QuoteIdent(column->name));
  }
  column->cast_to_text = true;
  column->wire = WireType::kText;
  column->target = AppendColumn{column->name, ColumnKind::kVarchar};
  return Status::OK();
}

/// format_type() for every (oid, typmod) pair, in one round trip.
Status FillTypeNames(PgClient& client, std::vector<PgColumn>* columns) {
  if (columns->empty()) return Status::OK();
  std::vector<std::string> oids;
  std::vector<std::string> mods;
  for (const auto& c : *columns) {
    oids.push_back(std::to_string(c.type_oid));
    mods.push_back(std::to_string(c.typmod));
  }
  SLUICE_ASSIGN_OR_RETURN(TextRows rows,
                          client.QueryParams("SELECT format_type(o, m) AS name FROM unnest($1::oid[], $2::int4[]) "
                                             "WITH ORDINALITY AS u(o, m, n) ORDER BY n",
                                             {"{" + Join(oids, ",") + "}", "{" + Join(mods, ",") + "}"}));
  for (size_t i = 0; i < columns->size() && i < rows.rows.size(); ++i) (*columns)[i].type_name = rows.Get(i, "name");
  return Status::OK();
}

Result<std::vector<PgColumn>> Resolve(PgClient& client, std::vector<PgColumn> columns,
                                      const TypeMappingOptions& options) {
  std::set<std::string> seen;
  for (const auto& c : columns) {
    if (!seen.insert(ToLower(c.name)).second) {
      return Status::Invalid(
          "the source has two columns named '{}' (names are compared case-insensitively in "
          "DuckDB); alias one of them in the query",
          c.name);
    }
  }
  SLUICE_TRY(FillTypeNames(client, &columns));
  std::set<uint32_t> oids;
  for (const auto& c : columns) oids.insert(c.type_oid);
  TypeCatalog catalog;
  SLUICE_TRY(LoadTypes(client, std::move(oids), &catalog));
  for (auto& c : columns)
    SLUICE_TRY(ResolveColumn(catalog, options, &c).WithContext("PostgreSQL {}", client.endpoint()));
  return columns;
}

/// Strips trailing semicolons and whitespace so that the query can be wrapped in a subquery.
std::string_view TrimQuery(std::string_view query) {
  while (!query.empty() && (query.back() == ';' || std::isspace(static_cast<unsigned char>(query.back())))) {
    query.remove_suffix(1);
  }
  return query;
}

}  // namespace

const char* WireTypeName(WireType wire) {
  switch (wire) {
    case WireType::kBool: return "bool";
    case WireType::kInt2: return "int2";
    case WireType::kInt4: return "int4";
    case WireType::kInt8: return "int8";
    case WireType::kOid: return "oid";
    case WireType::kFloat4: return "float4";
    case WireType::kFloat8: return "float8";
    case WireType::kNumeric: return "numeric";
    case WireType::kText: return "text";
    case WireType::kJson: return "json";
    case WireType::kJsonb: return "jsonb";
    case WireType::kBytea: return "bytea";
    case WireType::kDate: return "date";
    case WireType::kTime: return "time";
    case WireType::kTimestamp: return "timestamp";
    case WireType::kTimestampTz: return "timestamptz";
    case WireType::kInterval: return "interval";
    case WireType::kUuid: return "uuid";
    case WireType::kArray: return "array";
  }
  return "?";
}

bool DecodeNumericTypmod(int32_t typmod, int* precision, int* scale) {
  constexpr int32_t kVarHdrSz = 4;
  if (typmod < kVarHdrSz) return false;
  int32_t t = typmod - kVarHdrSz;
  *precision = (t >> 16) & 0xffff;
  *scale = ((t & 0x7ff) ^ 1024) - 1024;  // an 11-bit signed field since PostgreSQL 15
  return true;
}

Result<std::vector<PgColumn>> DescribeQuery(PgClient& client, std::string_view query,
                                            const TypeMappingOptions& options) {
  std::string sql = fmt::format("SELECT * FROM ({}\n) AS q LIMIT 0", TrimQuery(query));
  PgResult result(PQexec(client.raw(), sql.c_str()));
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
    return client.ResultError(result.get(), "describing the source query");
  }
  std::vector<PgColumn> columns;
  for (int c = 0; c < PQnfields(result.get()); ++c) {
    PgColumn column;
    column.name = PQfname(result.get(), c);
    column.type_oid = PQftype(result.get(), c);
    column.typmod = PQfmod(result.get(), c);
    columns.push_back(std::move(column));
  }
  if (columns.empty()) return Status::Invalid("the source query returns no columns: {}", query);
  return Resolve(client, std::move(columns), options);
}

Result<std::vector<PgColumn>> DescribeTable(PgClient& client, std::string_view schema, std::string_view table,
                                            const TypeMappingOptions& options) {
  SLUICE_ASSIGN_OR_RETURN(
      TextRows rows,
      client.QueryParams("SELECT a.attname, a.atttypid::int8 AS oid, a.atttypmod, a.attnotnull "
                         "FROM pg_catalog.pg_attribute a "
                         "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
                         "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                         "WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped "
                         "ORDER BY a.attnum",
                         {std::string(schema), std::string(table)}));
  if (rows.rows.empty()) {
    return Status::NotFound("PostgreSQL {}: table {}.{} does not exist or has no columns visible to this user",
                            client.endpoint(), QuoteIdent(schema), QuoteIdent(table));
  }
  std::vector<PgColumn> columns;
  try {
    for (size_t r = 0; r < rows.rows.size(); ++r) {
      PgColumn column;
      column.name = rows.Get(r, "attname");
      column.type_oid = ParseOid(rows.Get(r, "oid"));
      column.typmod = std::stoi(rows.Get(r, "atttypmod"));
      column.not_null = rows.Get(r, "attnotnull") == "t";
      columns.push_back(std::move(column));
    }
  } catch (const std::exception& e) {
    return Status::Internal("PostgreSQL {}: unexpected pg_attribute row: {}", client.endpoint(), e.what());
  }
  return Resolve(client, std::move(columns), options);
}

std::string SelectList(const std::vector<PgColumn>& columns) {
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) out += ", ";
    std::string ident = QuoteIdent(columns[i].name);
    out += columns[i].cast_to_text ? fmt::format("q.{}::text AS {}", ident, ident) : "q." + ident;
  }
  return out;
}

std::string CopySql(std::string_view query, const std::vector<PgColumn>& columns) {
  return fmt::format("COPY (SELECT {} FROM ({}\n) AS q) TO STDOUT (FORMAT binary)", SelectList(columns),
                     TrimQuery(query));
}

std::vector<engine::AppendColumn> TargetColumns(const std::vector<PgColumn>& columns) {
  std::vector<engine::AppendColumn> out;
  out.reserve(columns.size());
  for (const auto& c : columns) out.push_back(c.target);
  return out;
}

}  // namespace sluice::postgres
