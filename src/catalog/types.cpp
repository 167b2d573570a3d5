#include "catalog/types.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/strings.hpp"
#include "engine/type_tree.hpp"

namespace sluice::catalog {
namespace {

bool IsNamePart(std::string_view part) {
  if (part.empty()) return false;
  for (char c : part) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

constexpr std::array<std::pair<WriteOperation, const char*>, 4> kWriteOperations{{
    {WriteOperation::kAppend, "append"},
    {WriteOperation::kOverwrite, "overwrite"},
    {WriteOperation::kDelete, "delete"},
    {WriteOperation::kCompact, "compact"},
}};

constexpr std::array<std::pair<RunStatus, const char*>, 8> kRunStatuses{{
    {RunStatus::kQueued, "queued"},
    {RunStatus::kRunning, "running"},
    {RunStatus::kSucceeded, "succeeded"},
    {RunStatus::kNoChanges, "no_changes"},
    {RunStatus::kFailed, "failed"},
    {RunStatus::kInterrupted, "interrupted"},
    {RunStatus::kCancelled, "cancelled"},
    {RunStatus::kSkipped, "skipped"},
}};

template <typename Enum, size_t N>
std::string NameList(const std::array<std::pair<Enum, const char*>, N>& table) {
  std::vector<std::string> names;
  for (const auto& [value, name] : table) names.emplace_back(name);
  return Join(names, ", ");
}

}  // namespace

Result<TableName> TableName::Parse(std::string_view text) {
  std::string trimmed = Trim(text);
  auto dot = trimmed.find('.');
  if (dot == std::string::npos || trimmed.find('.', dot + 1) != std::string::npos) {
    return Status::Invalid(
        "'{}' is not a table name: write zone.table, e.g. raw.birdstrikes (the zone is the lake layer: raw, silver, "
        "gold, ...)",
        trimmed);
  }
  TableName name{trimmed.substr(0, dot), trimmed.substr(dot + 1)};
  if (!IsNamePart(name.zone) || !IsNamePart(name.name)) {
    return Status::Invalid(
        "'{}' is not a table name: in zone.table (e.g. raw.birdstrikes) both parts must be non-empty and use only "
        "letters, digits and '_'",
        trimmed);
  }
  return name;
}

std::string TableName::ToString() const { return zone + "." + name; }

std::string Schema::ToJson() const {
  nlohmann::json columns_json = nlohmann::json::array();
  for (const auto& c : columns) {
    nlohmann::json column = {{"name", c.name}, {"type", c.type}, {"nullable", c.nullable}};
    if (c.field_id > 0) column["id"] = c.field_id;
    if (!c.nested_field_ids.empty()) column["nested_ids"] = c.nested_field_ids;
    columns_json.push_back(std::move(column));
  }
  nlohmann::json doc = {{"columns", std::move(columns_json)}};
  return doc.dump();
}

Result<Schema> Schema::FromJson(std::string_view json) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    return Status::DataError(
        "table schema is not valid JSON ({}); expected {{\"columns\":[{{\"name\":..,\"type\":..}}]}}", e.what());
  }
  if (!doc.is_object() || !doc.contains("columns") || !doc["columns"].is_array()) {
    return Status::DataError(
        "table schema JSON has no \"columns\" array; expected {{\"columns\":[{{\"name\":..,"
        "\"type\":..}}]}}");
  }
  Schema schema;
  std::set<std::string> seen;
  const auto& columns = doc["columns"];
  for (size_t i = 0; i < columns.size(); ++i) {
    const auto& c = columns[i];
    if (!c.is_object() || !c.contains("name") || !c["name"].is_string() || !c.contains("type") ||
        !c["type"].is_string()) {
      return Status::DataError("table schema JSON: columns[{}] needs string \"name\" and \"type\"", i);
    }
    Column column{c["name"].get<std::string>(), c["type"].get<std::string>(), true};
    if (c.contains("nullable")) {
      if (!c["nullable"].is_boolean()) {
        return Status::DataError("table schema JSON: columns[{}].nullable must be true or false", i);
      }
      column.nullable = c["nullable"].get<bool>();
    }
    if (c.contains("id")) {
      if (!c["id"].is_number_integer() || c["id"].get<int64_t>() <= 0) {
        return Status::DataError("table schema JSON: columns[{}].id must be a positive integer", i);
      }
      column.field_id = c["id"].get<int64_t>();
    }
    if (c.contains("nested_ids")) {
      const auto& ids = c["nested_ids"];
      bool valid = ids.is_array() && std::all_of(ids.begin(), ids.end(), [](const nlohmann::json& id) {
                     return id.is_number_integer() && id.get<int64_t>() > 0;
                   });
      if (!valid) return Status::DataError("table schema JSON: columns[{}].nested_ids must be positive integers", i);
      column.nested_field_ids = ids.get<std::vector<int64_t>>();
    }
    if (!seen.insert(column.name).second) {
      return Status::DataError("table schema JSON: column '{}' appears twice (columns[{}])", column.name, i);
    }
    schema.columns.push_back(std::move(column));
  }
  return schema;
}

const Column* Schema::Find(std::string_view name) const {
  for (const auto& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string DescribeSchemaChange(const Schema& before, const Schema& after) {
  std::vector<std::string> parts;
  for (const auto& c : after.columns) {
    const Column* old = before.Find(c.name);
    if (old == nullptr) {
      parts.push_back(fmt::format("added column {} ({})", c.name, c.type));
      continue;
    }
    if (old->type != c.type) parts.push_back(fmt::format("type of {} {} -> {}", c.name, old->type, c.type));
    if (old->nullable != c.nullable) {
      parts.push_back(fmt::format("{} became {}", c.name, c.nullable ? "nullable" : "NOT NULL"));
    }
  }
  for (const auto& c : before.columns) {
    if (after.Find(c.name) == nullptr) parts.push_back(fmt::format("removed column {}", c.name));
  }
  if (parts.empty() && before != after) parts.emplace_back("columns reordered");
  return Join(parts, "; ");
}

Schema WithFieldIds(Schema schema) {
  for (size_t i = 0; i < schema.columns.size(); ++i) {
    if (schema.columns[i].field_id == 0) schema.columns[i].field_id = static_cast<int64_t>(i) + 1;
  }
  return schema;
}

namespace {

/// The nested field paths of a type (engine::NestedFieldPaths); none for a primitive or a name that does not parse.
std::vector<std::string> NestedPathsOf(const std::string& type) {
  auto tree = engine::ParseTypeName(type);
  return tree.ok() ? engine::NestedFieldPaths(*tree) : std::vector<std::string>{};
}

}  // namespace

void AssignFieldIds(const Schema& previous, int64_t* last_column_id, Schema* next) {
  Schema numbered = WithFieldIds(previous);
  for (const auto& c : numbered.columns) {
    *last_column_id = std::max(*last_column_id, c.field_id);
    for (int64_t id : c.nested_field_ids) *last_column_id = std::max(*last_column_id, id);
  }
  for (auto& c : next->columns) {
    const Column* old = numbered.Find(c.name);
    c.field_id = old != nullptr ? old->field_id : ++*last_column_id;
    // A nested field keeps its id while its path exists (a struct gaining a field keeps the others' ids).
    std::map<std::string, int64_t> kept;
    if (old != nullptr) {
      auto old_paths = NestedPathsOf(old->type);
      if (old_paths.size() == old->nested_field_ids.size()) {
        for (size_t i = 0; i < old_paths.size(); ++i) kept.emplace(old_paths[i], old->nested_field_ids[i]);
      }
    }
    c.nested_field_ids.clear();
    for (const auto& path : NestedPathsOf(c.type)) {
      auto it = kept.find(path);
      c.nested_field_ids.push_back(it != kept.end() ? it->second : ++*last_column_id);
    }
  }
}

const char* WriteOperationName(WriteOperation operation) {
  for (const auto& [value, name] : kWriteOperations) {
    if (value == operation) return name;
  }
  return "unknown";
}

Result<WriteOperation> ParseWriteOperation(std::string_view text) {
  for (const auto& [value, name] : kWriteOperations) {
    if (text == name) return value;
  }
  return Status::Invalid("unknown write operation '{}'; expected one of {}", text, NameList(kWriteOperations));
}

const char* RunStatusName(RunStatus status) {
  for (const auto& [value, name] : kRunStatuses) {
    if (value == status) return name;
  }
  return "unknown";
}

Result<RunStatus> ParseRunStatus(std::string_view text) {
  for (const auto& [value, name] : kRunStatuses) {
    if (text == name) return value;
  }
  return Status::Invalid("unknown run status '{}'; expected one of {}", text, NameList(kRunStatuses));
}

const char* QueueStateName(QueueState state) {
  switch (state) {
    case QueueState::kQueued: return "queued";
    case QueueState::kClaimed: return "claimed";
    case QueueState::kDone: return "done";
  }
  return "queued";
}

}  // namespace sluice::catalog
