#include "transforms/mask.hpp"

#include <mutex>
#include <set>

#include "common/hash.hpp"
#include "common/strings.hpp"

namespace sluice::transforms {
namespace {

constexpr const char* kRedacted = "***";

/// The SQL name of the keyed hash function. Derived from the key (not the key itself, which must
/// never appear in SQL text that errors or logs could echo), so two keys never share a function.
std::string HashFunctionName(const Secret& key) {
  return "sluice_mask_hmac_" + HmacSha256Hex(key.Reveal(), "sluice mask function name").substr(0, 16);
}

/// Registers the keyed hash on the connection's database once per process and key.
Status EnsureHashFunction(engine::Connection& connection, const Secret& key, const std::string& name) {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  Status st = engine::RegisterTextFunction(
      connection, name, [key](std::string_view value) { return HmacSha256Hex(key.Reveal(), value); });
  if (st.code() == StatusCode::kAlreadyExists) return Status::OK();
  return st;
}

}  // namespace

const char* MaskMethodName(MaskMethod method) {
  switch (method) {
    case MaskMethod::kHash: return "hash";
    case MaskMethod::kRedact: return "redact";
    case MaskMethod::kPartial: return "partial";
  }
  return "hash";
}

Result<MaskMethod> ParseMaskMethod(std::string_view text) {
  for (auto method : {MaskMethod::kHash, MaskMethod::kRedact, MaskMethod::kPartial}) {
    if (text == MaskMethodName(method)) return method;
  }
  std::string hint = NearestWord(text, {"hash", "redact", "partial"});
  return Status::Invalid("unknown mask method '{}'{}; use hash, redact or partial", text,
                         hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint));
}

Result<std::string> MaskExpression(engine::Connection& connection, const ColumnMask& mask, const Secret& key,
                                   std::string_view column_sql) {
  std::string text = fmt::format("CAST({} AS VARCHAR)", column_sql);
  switch (mask.method) {
    case MaskMethod::kHash: {
      if (key.empty()) {
        return Status::Invalid(
            "column '{}' is masked with hash, which needs a secret key: set masking: {{ key: "
            "\"${{env:SLUICE_MASK_KEY}}\" "
            "}} in sluice.yaml",
            mask.column);
      }
      std::string function = HashFunctionName(key);
      SLUICE_TRY(EnsureHashFunction(connection, key, function));
      return fmt::format("{}({})", function, text);
    }
    case MaskMethod::kRedact: return fmt::format("CASE WHEN {} IS NULL THEN NULL ELSE '{}' END", column_sql, kRedacted);
    case MaskMethod::kPartial: {
      if (mask.show_last < 0) return Status::Invalid("column '{}': show_last must be 0 or more", mask.column);
      // Values no longer than what would be shown are starred out entirely: showing them whole is no mask.
      return fmt::format(
          "CASE WHEN length({0}) <= {1} THEN repeat('*', length({0})) "
          "ELSE repeat('*', length({0}) - {1}) || right({0}, {1}) END",
          text, mask.show_last);
    }
  }
  return Status::Internal("unhandled mask method");
}

Result<std::string> MaskedSelect(engine::Connection& connection, std::string_view relation,
                                 const std::vector<ColumnMask>& masks, const Secret& key) {
  SLUICE_ASSIGN_OR_RETURN(auto columns, connection.Describe(fmt::format("SELECT * FROM {}", relation)));
  std::vector<std::string> names;
  for (const auto& c : columns) names.push_back(c.name);
  std::set<std::string> known(names.begin(), names.end());
  for (const auto& mask : masks) {
    if (known.count(mask.column) > 0) continue;
    std::string hint = NearestWord(mask.column, names);
    return Status::Invalid("mask names column '{}', which the data does not have{}; columns: {}", mask.column,
                           hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint), Join(names, ", "));
  }
  std::vector<std::string> select;
  for (const auto& name : names) {
    const ColumnMask* mask = nullptr;
    for (const auto& m : masks) {
      if (m.column == name) mask = &m;
    }
    if (mask == nullptr) {
      select.push_back(SqlIdent(name));
      continue;
    }
    SLUICE_ASSIGN_OR_RETURN(auto expression, MaskExpression(connection, *mask, key, SqlIdent(name)));
    select.push_back(fmt::format("{} AS {}", expression, SqlIdent(name)));
  }
  return fmt::format("SELECT {} FROM {}", Join(select, ", "), relation);
}

}  // namespace sluice::transforms
