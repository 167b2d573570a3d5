#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/secret.hpp"
#include "common/status.hpp"
#include "engine/engine.hpp"

namespace sluice::transforms {

/// How a masked column is protected.
///  - hash: lowercase hex HMAC-SHA256 of the value's text under a secret key. Equal values give equal
///    hashes, so masked columns still join, group and count distinct; without the key nobody can
///    confirm a guessed value (a plain hash of a phone number is reversed by trying them all).
///  - redact: the value is replaced by "***".
///  - partial: all but the last `show_last` characters become '*' ("*******4821").
/// NULL stays NULL under every method; masked columns become VARCHAR.
enum class MaskMethod { kHash, kRedact, kPartial };

/// "hash", "redact", "partial".
const char* MaskMethodName(MaskMethod method);
/// Invalid (with the nearest method) for an unknown word.
Result<MaskMethod> ParseMaskMethod(std::string_view text);

struct ColumnMask {
  std::string column;
  MaskMethod method = MaskMethod::kHash;
  int show_last = 4;  // partial only
};

/// SQL expression masking `column_sql` (an expression or a quoted column name). For hash, registers
/// the keyed function on the connection's database first (once per key and process); hash without a
/// key is Invalid, saying where to set one.
Result<std::string> MaskExpression(engine::Connection& connection, const ColumnMask& mask, const Secret& key,
                                   std::string_view column_sql);

/// `SELECT …` over `relation` returning its columns in order, the masked ones replaced under their own
/// name. A mask naming a column the relation lacks is Invalid with the nearest column name.
Result<std::string> MaskedSelect(engine::Connection& connection, std::string_view relation,
                                 const std::vector<ColumnMask>& masks, const Secret& key);

}  // namespace sluice::transforms
