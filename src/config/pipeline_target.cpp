#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "config/pipeline_parsing.hpp"

namespace sluice::config::internal {
namespace {

const std::vector<std::string> kZones = {"raw", "silver", "gold"};

}  // namespace

TargetConfig JobParser::ParseTarget(const Value* value, std::string_view owner, LoadMode mode) {
  TargetConfig target;
  if (value == nullptr || !value->IsMap()) return target;
  target.raw = *value;
  if (value->Find("connection") != nullptr || value->Find("type") != nullptr) {
    // A sink outside the lake: its own option specs validate the rest when it is bound.
    if (const Value* connection = value->Find("connection"); connection != nullptr && connection->IsScalar()) {
      target.connection = connection->scalar();
    }
    if (const Value* type = value->Find("type"); type != nullptr && type->IsScalar()) target.type = type->scalar();
    if (const Value* write = value->Find("write"); write != nullptr && write->IsScalar())
      target.sink_write = write->scalar();
    if (const Value* table = value->Find("table"); table != nullptr && table->IsScalar())
      target.table = table->scalar();
    target.zone = "raw";  // where rows set aside (TABLE__rejects) go
    return target;
  }
  ValidateOptions(*value, TargetKeys(), fmt::format("target of {}", owner), errors_);
  if (const Value* table = value->Find("table"); (table == nullptr || table->IsNull()) && mode != LoadMode::kCdc) {
    Error(value->location(),
          fmt::format("missing required key 'table' in target of {} (table name inside the zone)", owner));
  }
  Choice(value->Find("zone"), "zone", fmt::format("target of {}", owner), kZones, &target.zone);
  if (const Value* table = value->Find("table"); table != nullptr && table->IsScalar()) {
    target.table = table->scalar();
    bool plain = !target.table.empty() && std::all_of(target.table.begin(), target.table.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
    if (!plain) {
      size_t dot = target.table.find('.');
      std::string hint =
          dot == std::string::npos
              ? "use letters, digits and '_'"
              : fmt::format("write zone: {} and table: {}", target.table.substr(0, dot), target.table.substr(dot + 1));
      Error(table->location(),
            fmt::format("table '{}' in target of {} is not a plain table name; {}", target.table, owner, hint));
    }
  }
  if (const Value* partition_by = value->Find("partition_by"); partition_by != nullptr && !partition_by->IsNull()) {
    if (auto columns = partition_by->AsStringList(); columns.ok()) target.partition_by = *columns;
  }
  Choice(value->Find("write"), fmt::format("target of {}", owner), ParseWriteMode, &target.write);
  return target;
}

}  // namespace sluice::config::internal
