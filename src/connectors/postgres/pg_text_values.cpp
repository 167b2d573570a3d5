#include "connectors/postgres/pg_text_values.hpp"

#include <fmt/format.h>

#include "common/strings.hpp"

namespace sluice::postgres {
namespace {

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (u < 0x20) {
      *out += fmt::format("\\u{:04x}", u);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

}  // namespace

Result<std::string> ArrayTextToJson(std::string_view text) {
  // An explicit lower bound ("[0:2]={1,2,3}") carries no value of its own: the elements follow '='.
  if (!text.empty() && text.front() == '[') {
    size_t eq = text.find('=');
    if (eq == std::string_view::npos)
      return Status::DataError("array value '{}' has bounds but no elements", text.substr(0, 80));
    text = text.substr(eq + 1);
  }
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') {
    return Status::DataError("'{}' is not a PostgreSQL array value", text.substr(0, 80));
  }
  std::string out = "[";
  std::string_view body = text.substr(1, text.size() - 2);
  size_t i = 0;
  bool first = true;
  if (body.empty()) return std::string("[]");
  for (;;) {
    if (!first) out.push_back(',');
    first = false;
    if (i < body.size() && body[i] == '{') {
      return Status::DataError("multi-dimensional array value '{}' is not supported (one dimension only)",
                               text.substr(0, 80));
    }
    std::string element;
    bool quoted = false;
    if (i < body.size() && body[i] == '"') {
      quoted = true;
      ++i;
      for (;; ++i) {
        if (i >= body.size())
          return Status::DataError("unterminated quoted element in array value '{}'", text.substr(0, 80));
        if (body[i] == '\\') {
          if (++i >= body.size()) return Status::DataError("dangling escape in array value '{}'", text.substr(0, 80));
          element.push_back(body[i]);
        } else if (body[i] == '"') {
          ++i;
          break;
        } else {
          element.push_back(body[i]);
        }
      }
    } else {
      while (i < body.size() && body[i] != ',') {
        if (body[i] == '\\' && i + 1 < body.size()) ++i;  // an escape outside quotes too (array input rules)
        element.push_back(body[i++]);
      }
    }
    if (!quoted && element == "NULL") {
      out += "null";
    } else {
      AppendJsonString(&out, element);
    }
    if (i >= body.size()) break;
    if (body[i] != ',') return Status::DataError("unexpected '{}' in array value '{}'", body[i], text.substr(0, 80));
    ++i;
  }
  out.push_back(']');
  return out;
}

std::string TextToTypedSql(const PgColumn& column, const std::string& column_sql) {
  std::string type = engine::DuckDbTypeName(column.target);
  if (column.target.kind == engine::ColumnKind::kList) {
    return fmt::format("CAST(from_json({}, '[\"VARCHAR\"]') AS {})", column_sql, type);
  }
  switch (column.target.kind) {
    case engine::ColumnKind::kVarchar: return column_sql;
    case engine::ColumnKind::kBool:
      return fmt::format("(CASE {} WHEN 't' THEN true WHEN 'f' THEN false END)", column_sql);
    case engine::ColumnKind::kBlob:  // bytea_output=hex: \x0a0b…
      return fmt::format("from_hex(substr({}, 3))", column_sql);
    default: return fmt::format("CAST({} AS {})", column_sql, type);
  }
}

}  // namespace sluice::postgres
