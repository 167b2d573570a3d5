#include "connectors/postgres/pg_copy_writer.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <type_traits>

#include "common/strings.hpp"

namespace sluice::postgres {
namespace {

__extension__ using WideInt = __int128;
__extension__ using WideUnsigned = unsigned __int128;

using engine::ValueKind;

constexpr size_t kFlushBytes = 1 << 20;
// PostgreSQL counts dates and timestamps from 2000-01-01, DuckDB from 1970-01-01.
constexpr int32_t kPgEpochDays = 10957;
constexpr int64_t kPgEpochMicros = 946684800000000LL;
// DuckDB's and PostgreSQL's infinities.
constexpr int32_t kDuckDateInfinity = 2147483647;
constexpr int64_t kDuckTimestampInfinity = 9223372036854775807LL;

/// Appends `v` in network byte order, in one append: COPY encodes several of these per value.
template <typename Int>
void PutBigEndian(std::string* out, Int v) {
  using Unsigned = std::make_unsigned_t<Int>;
  auto u = static_cast<Unsigned>(v);
  char bytes[sizeof(Int)];
  for (size_t i = 0; i < sizeof(Int); ++i) bytes[i] = static_cast<char>(u >> (8 * (sizeof(Int) - 1 - i)));
  out->append(bytes, sizeof(Int));
}
void PutInt16(std::string* out, int16_t v) { PutBigEndian(out, v); }
void PutInt32(std::string* out, int32_t v) { PutBigEndian(out, v); }
void PutInt64(std::string* out, int64_t v) { PutBigEndian(out, v); }
/// Overwrites the 4-byte length at `at` with the bytes written after it.
void PatchLength(std::string* out, size_t at) {
  auto length = static_cast<uint32_t>(out->size() - at - 4);
  for (int i = 0; i < 4; ++i) (*out)[at + i] = static_cast<char>((length >> (24 - 8 * i)) & 0xff);
}

}  // namespace

std::optional<PgScalar> ScalarFromTypeName(std::string_view t) {
  if (t == "bool") return PgScalar::kBool;
  if (t == "int2") return PgScalar::kInt2;
  if (t == "int4") return PgScalar::kInt4;
  if (t == "int8") return PgScalar::kInt8;
  if (t == "float4") return PgScalar::kFloat4;
  if (t == "float8") return PgScalar::kFloat8;
  if (t == "numeric") return PgScalar::kNumeric;
  if (t == "text" || t == "varchar" || t == "bpchar") return PgScalar::kText;
  if (t == "bytea") return PgScalar::kBytea;
  if (t == "date") return PgScalar::kDate;
  if (t == "time") return PgScalar::kTime;
  if (t == "timestamp") return PgScalar::kTimestamp;
  if (t == "timestamptz") return PgScalar::kTimestampTz;
  if (t == "interval") return PgScalar::kInterval;
  if (t == "uuid") return PgScalar::kUuid;
  if (t == "json") return PgScalar::kJson;
  if (t == "jsonb") return PgScalar::kJsonb;
  return std::nullopt;
}

uint32_t ScalarOid(PgScalar scalar) {
  switch (scalar) {
    case PgScalar::kBool: return 16;
    case PgScalar::kInt2: return 21;
    case PgScalar::kInt4: return 23;
    case PgScalar::kInt8: return 20;
    case PgScalar::kFloat4: return 700;
    case PgScalar::kFloat8: return 701;
    case PgScalar::kNumeric: return 1700;
    case PgScalar::kText: return 25;
    case PgScalar::kBytea: return 17;
    case PgScalar::kDate: return 1082;
    case PgScalar::kTime: return 1083;
    case PgScalar::kTimestamp: return 1114;
    case PgScalar::kTimestampTz: return 1184;
    case PgScalar::kInterval: return 1186;
    case PgScalar::kUuid: return 2950;
    case PgScalar::kJson: return 114;
    case PgScalar::kJsonb: return 3802;
  }
  return 25;
}

engine::ValueKind KindFor(PgScalar scalar) {
  switch (scalar) {
    case PgScalar::kBool: return ValueKind::kBoolean;
    case PgScalar::kInt2: return ValueKind::kSmallInt;
    case PgScalar::kInt4: return ValueKind::kInteger;
    case PgScalar::kInt8: return ValueKind::kBigInt;
    case PgScalar::kFloat4: return ValueKind::kFloat;
    case PgScalar::kFloat8: return ValueKind::kDouble;
    case PgScalar::kNumeric: return ValueKind::kDecimal;
    case PgScalar::kBytea: return ValueKind::kBlob;
    case PgScalar::kDate: return ValueKind::kDate;
    case PgScalar::kTime: return ValueKind::kTime;
    case PgScalar::kTimestamp: return ValueKind::kTimestamp;
    case PgScalar::kTimestampTz: return ValueKind::kTimestampTz;
    case PgScalar::kInterval: return ValueKind::kInterval;
    case PgScalar::kUuid: return ValueKind::kUuid;
    case PgScalar::kText:
    case PgScalar::kJson:
    case PgScalar::kJsonb: return ValueKind::kVarchar;
  }
  return ValueKind::kVarchar;
}

std::string EngineTypeFor(PgScalar scalar, const std::string& decimal_sql) {
  switch (scalar) {
    case PgScalar::kBool: return "BOOLEAN";
    case PgScalar::kInt2: return "SMALLINT";
    case PgScalar::kInt4: return "INTEGER";
    case PgScalar::kInt8: return "BIGINT";
    case PgScalar::kFloat4: return "FLOAT";
    case PgScalar::kFloat8: return "DOUBLE";
    case PgScalar::kNumeric: return decimal_sql;
    case PgScalar::kBytea: return "BLOB";
    case PgScalar::kDate: return "DATE";
    case PgScalar::kTime: return "TIME";
    case PgScalar::kTimestamp: return "TIMESTAMP";
    case PgScalar::kTimestampTz: return "TIMESTAMPTZ";
    case PgScalar::kInterval: return "INTERVAL";
    case PgScalar::kUuid: return "UUID";
    case PgScalar::kText:
    case PgScalar::kJson:
    case PgScalar::kJsonb: return "VARCHAR";
  }
  return "VARCHAR";
}

/// Digit by digit through text: any 38-digit value, however large its scale padding makes it.
static std::string EncodeNumericViaText(engine::Int128 unscaled, int scale) {
  WideInt value =
      static_cast<WideInt>((static_cast<WideUnsigned>(static_cast<uint64_t>(unscaled.high)) << 64) | unscaled.low);
  bool negative = value < 0;
  WideUnsigned magnitude = negative ? static_cast<WideUnsigned>(-(value + 1)) + 1 : static_cast<WideUnsigned>(value);
  std::string decimal;
  do {
    decimal.push_back(static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude != 0);
  while (static_cast<int>(decimal.size()) <= scale) decimal.push_back('0');
  std::reverse(decimal.begin(), decimal.end());
  std::string integer = decimal.substr(0, decimal.size() - scale);
  std::string fraction = decimal.substr(decimal.size() - scale);
  integer.insert(0, (4 - integer.size() % 4) % 4, '0');
  fraction.append((4 - fraction.size() % 4) % 4, '0');
  std::vector<int16_t> digits;
  for (size_t i = 0; i < integer.size(); i += 4)
    digits.push_back(static_cast<int16_t>(std::stoi(integer.substr(i, 4))));
  int weight = static_cast<int>(digits.size()) - 1;
  for (size_t i = 0; i < fraction.size(); i += 4)
    digits.push_back(static_cast<int16_t>(std::stoi(fraction.substr(i, 4))));
  size_t first = 0;
  while (first < digits.size() && digits[first] == 0) {
    ++first;
    --weight;
  }
  size_t last = digits.size();
  while (last > first && digits[last - 1] == 0) --last;
  std::string out;
  if (first == last) {  // zero
    PutInt16(&out, 0);
    PutInt16(&out, 0);
    PutInt16(&out, 0);
    PutInt16(&out, static_cast<int16_t>(scale));
    return out;
  }
  PutInt16(&out, static_cast<int16_t>(last - first));
  PutInt16(&out, static_cast<int16_t>(weight));
  PutInt16(&out, static_cast<int16_t>(negative ? 0x4000 : 0x0000));
  PutInt16(&out, static_cast<int16_t>(scale));
  for (size_t i = first; i < last; ++i) PutInt16(&out, digits[i]);
  return out;
}

void AppendNumeric(engine::Int128 unscaled, int scale, std::string* out) {
  WideInt value =
      static_cast<WideInt>((static_cast<WideUnsigned>(static_cast<uint64_t>(unscaled.high)) << 64) | unscaled.low);
  bool negative = value < 0;
  WideUnsigned magnitude = negative ? static_cast<WideUnsigned>(-(value + 1)) + 1 : static_cast<WideUnsigned>(value);
  // The fraction is padded to whole base-10000 digits; up to 10^34 that cannot overflow.
  int pad = (4 - scale % 4) % 4;
  static const WideUnsigned kSafe = [] {
    WideUnsigned limit = 1;
    for (int i = 0; i < 34; ++i) limit *= 10;
    return limit;
  }();
  if (magnitude >= kSafe) {
    out->append(EncodeNumericViaText(unscaled, scale));
    return;
  }
  for (int i = 0; i < pad; ++i) magnitude *= 10;
  int fraction_groups = (scale + pad) / 4;
  int16_t groups[16];
  int count = 0;
  // Most values fit 64 bits, whose division is several times cheaper than 128-bit division.
  for (; magnitude > std::numeric_limits<uint64_t>::max(); magnitude /= 10000) {
    groups[count++] = static_cast<int16_t>(magnitude % 10000);
  }
  for (auto narrow = static_cast<uint64_t>(magnitude); narrow != 0; narrow /= 10000) {
    groups[count++] = static_cast<int16_t>(narrow % 10000);
  }
  if (count == 0) {  // zero
    PutInt16(out, 0);
    PutInt16(out, 0);
    PutInt16(out, 0);
    PutInt16(out, static_cast<int16_t>(scale));
    return;
  }
  int lowest = 0;
  while (groups[lowest] == 0) ++lowest;  // trailing zero digits are left out
  PutInt16(out, static_cast<int16_t>(count - lowest));
  PutInt16(out, static_cast<int16_t>(count - 1 - fraction_groups));
  PutInt16(out, static_cast<int16_t>(negative ? 0x4000 : 0x0000));
  PutInt16(out, static_cast<int16_t>(scale));
  for (int i = count - 1; i >= lowest; --i) PutInt16(out, groups[i]);
}

std::string EncodeNumeric(engine::Int128 unscaled, int scale) {
  std::string out;
  AppendNumeric(unscaled, scale, &out);
  return out;
}

Result<std::unique_ptr<CopyInWriter>> CopyInWriter::Start(PgClient& client, const std::string& copy_sql,
                                                          std::vector<PgTargetColumn> columns) {
  PgResult result(PQexec(client.raw(), copy_sql.c_str()));
  if (PQresultStatus(result.get()) != PGRES_COPY_IN) return client.ResultError(result.get(), "COPY FROM STDIN");
  std::unique_ptr<CopyInWriter> writer(new CopyInWriter(client, std::move(columns)));
  writer->open_ = true;
  writer->buffer_.append("PGCOPY\n\377\r\n\0", 11);
  PutInt32(&writer->buffer_, 0);  // flags
  PutInt32(&writer->buffer_, 0);  // header extension
  return writer;
}

CopyInWriter::~CopyInWriter() {
  if (!open_) return;
  // An abandoned COPY fails on the server; the transaction around it then rolls back.
  PQputCopyEnd(client_.raw(), "sluice abandoned the write");
  while (PGresult* r = PQgetResult(client_.raw())) PQclear(r);
}

Status CopyInWriter::Flush() {
  if (buffer_.empty()) return Status::OK();
  if (PQputCopyData(client_.raw(), buffer_.data(), static_cast<int>(buffer_.size())) != 1) {
    return client_.ConnectionError("sending COPY data");
  }
  bytes_sent_ += buffer_.size();
  buffer_.clear();
  return Status::OK();
}

Status CopyInWriter::WriteChunk(const engine::ColumnStream& stream, uint64_t rows) {
  for (uint64_t row = 0; row < rows; ++row) {
    PutInt16(&buffer_, static_cast<int16_t>(columns_.size()));
    for (size_t c = 0; c < columns_.size(); ++c) SLUICE_TRY(EncodeValue(stream.column(c), row, columns_[c]));
    if (buffer_.size() >= kFlushBytes) SLUICE_TRY(Flush());
  }
  return Status::OK();
}

Status CopyInWriter::EncodeValue(const engine::ColumnVector& column, uint64_t row, const PgTargetColumn& target) {
  if (!column.IsValid(row)) {
    PutInt32(&buffer_, -1);
    return Status::OK();
  }
  if (!target.array) return EncodeScalar(column, row, target.scalar, &buffer_);
  if (column.type().kind != ValueKind::kList) {
    return Status::Internal("column '{}' should be a list for the array type {}", target.name, target.sql_type);
  }
  auto [offset, length] = column.ListRange(row);
  const engine::ColumnVector& elements = column.child();
  size_t at = buffer_.size();
  PutInt32(&buffer_, 0);  // length, patched below
  bool has_null = false;
  for (uint64_t i = 0; i < length; ++i) has_null |= !elements.IsValid(offset + i);
  PutInt32(&buffer_, length == 0 ? 0 : 1);  // dimensions
  PutInt32(&buffer_, has_null ? 1 : 0);
  PutInt32(&buffer_, static_cast<int32_t>(ScalarOid(target.scalar)));
  if (length > 0) {
    PutInt32(&buffer_, static_cast<int32_t>(length));
    PutInt32(&buffer_, 1);  // lower bound
  }
  for (uint64_t i = 0; i < length; ++i) {
    if (!elements.IsValid(offset + i)) {
      PutInt32(&buffer_, -1);
      continue;
    }
    SLUICE_TRY(EncodeScalar(elements, offset + i, target.scalar, &buffer_));
  }
  PatchLength(&buffer_, at);
  return Status::OK();
}

Status CopyInWriter::EncodeScalar(const engine::ColumnVector& column, uint64_t row, PgScalar scalar, std::string* out) {
  if (column.type().kind != KindFor(scalar)) {
    return Status::Internal("a {} value cannot be written as PostgreSQL type oid {}", column.type().name,
                            ScalarOid(scalar));
  }
  switch (scalar) {
    case PgScalar::kBool:
      PutInt32(out, 1);
      out->push_back(column.Integer(row) != 0 ? 1 : 0);
      return Status::OK();
    case PgScalar::kInt2:
      PutInt32(out, 2);
      PutInt16(out, static_cast<int16_t>(column.Integer(row)));
      return Status::OK();
    case PgScalar::kInt4:
      PutInt32(out, 4);
      PutInt32(out, static_cast<int32_t>(column.Integer(row)));
      return Status::OK();
    case PgScalar::kInt8:
    case PgScalar::kTime:
      PutInt32(out, 8);
      PutInt64(out, column.Integer(row));
      return Status::OK();
    case PgScalar::kFloat4: {
      float f = static_cast<float>(column.Floating(row));
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      PutInt32(out, 4);
      PutInt32(out, static_cast<int32_t>(bits));
      return Status::OK();
    }
    case PgScalar::kFloat8: {
      double d = column.Floating(row);
      uint64_t bits;
      std::memcpy(&bits, &d, 8);
      PutInt32(out, 8);
      PutInt64(out, static_cast<int64_t>(bits));
      return Status::OK();
    }
    case PgScalar::kNumeric: {
      size_t at = out->size();
      PutInt32(out, 0);  // length, patched below
      AppendNumeric(column.Wide(row), column.type().decimal_scale, out);
      PatchLength(out, at);
      return Status::OK();
    }
    case PgScalar::kText:
    case PgScalar::kJson:
    case PgScalar::kBytea: {
      std::string_view bytes = column.Bytes(row);
      PutInt32(out, static_cast<int32_t>(bytes.size()));
      out->append(bytes);
      return Status::OK();
    }
    case PgScalar::kJsonb: {
      std::string_view bytes = column.Bytes(row);
      PutInt32(out, static_cast<int32_t>(bytes.size() + 1));
      out->push_back(1);  // jsonb's binary format version
      out->append(bytes);
      return Status::OK();
    }
    case PgScalar::kDate: {
      auto days = static_cast<int32_t>(column.Integer(row));
      int32_t pg = days == kDuckDateInfinity ? INT32_MAX : days == -kDuckDateInfinity ? INT32_MIN : days - kPgEpochDays;
      PutInt32(out, 4);
      PutInt32(out, pg);
      return Status::OK();
    }
    case PgScalar::kTimestamp:
    case PgScalar::kTimestampTz: {
      int64_t micros = column.Integer(row);
      int64_t pg = micros == kDuckTimestampInfinity    ? INT64_MAX
                   : micros == -kDuckTimestampInfinity ? INT64_MIN
                                                       : micros - kPgEpochMicros;
      PutInt32(out, 8);
      PutInt64(out, pg);
      return Status::OK();
    }
    case PgScalar::kInterval: {
      auto interval = column.IntervalAt(row);
      PutInt32(out, 16);
      PutInt64(out, interval.micros);
      PutInt32(out, interval.days);
      PutInt32(out, interval.months);
      return Status::OK();
    }
    case PgScalar::kUuid: {
      auto stored = column.Wide(row);
      PutInt32(out, 16);
      PutInt64(out, static_cast<int64_t>(static_cast<uint64_t>(stored.high) ^ (uint64_t{1} << 63)));
      PutInt64(out, static_cast<int64_t>(stored.low));
      return Status::OK();
    }
  }
  return Status::Internal("unhandled PostgreSQL type");
}

Result<int64_t> CopyInWriter::Finish() {
  PutInt16(&buffer_, -1);  // trailer
  SLUICE_TRY(Flush());
  open_ = false;
  if (PQputCopyEnd(client_.raw(), nullptr) != 1) return client_.ConnectionError("ending COPY");
  PgResult result(PQgetResult(client_.raw()));
  Status status = PQresultStatus(result.get()) == PGRES_COMMAND_OK
                      ? Status::OK()
                      : client_.ResultError(result.get(), "COPY FROM STDIN");
  while (PGresult* r = PQgetResult(client_.raw())) PQclear(r);
  SLUICE_TRY(status);
  const char* tuples = PQcmdTuples(result.get());
  return tuples != nullptr && *tuples != '\0' ? std::stoll(tuples) : int64_t{0};
}

}  // namespace sluice::postgres
