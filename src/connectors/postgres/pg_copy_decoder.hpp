#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "connectors/postgres/pg_types.hpp"
#include "engine/appender.hpp"

namespace sluice::postgres {

/// Decodes the payload of `COPY … TO STDOUT (FORMAT binary)` one CopyData message at a time: the
/// header with the first, then one row per message, then the trailer. It sees only bytes (no
/// connection), so it is tested and fuzzed on its own; every malformed input is a DataError.
class CopyDecoder {
 public:
  /// `last_value_index`: an integer column whose first and last values are kept; -1 = none.
  CopyDecoder(std::vector<PgColumn> columns, std::string endpoint, int last_value_index = -1);
  /// Decodes one message into `into` (one row), or sets *trailer on the end-of-data marker.
  Status DecodeMessage(engine::Appender& into, const uint8_t* data, size_t size, bool* trailer);
  uint64_t rows_decoded() const { return rows_decoded_; }
  std::optional<int64_t> first_value() const { return first_value_; }
  std::optional<int64_t> last_value() const { return last_value_; }

 private:
  Status DecodeRow(engine::Appender& into, const uint8_t* data, size_t size);

  std::vector<PgColumn> columns_;
  std::string endpoint_;
  int last_value_index_ = -1;
  bool header_seen_ = false;
  uint64_t rows_decoded_ = 0;
  std::optional<int64_t> first_value_, last_value_;
};

}  // namespace sluice::postgres
