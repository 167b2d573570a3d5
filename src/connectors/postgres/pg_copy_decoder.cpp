#include "connectors/postgres/pg_copy_decoder.hpp"

#include <array>
#include <cstring>
#include <limits>

#include "common/strings.hpp"

namespace sluice::postgres {
namespace {

using engine::ColumnKind;

__extension__ typedef __int128 Int128Native;

// PostgreSQL counts dates and timestamps from 2000-01-01, DuckDB from 1970-01-01.
constexpr int64_t kEpochDiffDays = 10957;
constexpr int64_t kEpochDiffMicros = kEpochDiffDays * 86400LL * 1000000LL;
constexpr char kCopySignature[] = "PGCOPY\n\377\r\n";  // + a NUL byte: 11 bytes
constexpr size_t kSignatureSize = 11;

uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t Be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
uint64_t Be64(const uint8_t* p) { return (uint64_t{Be32(p)} << 32) | Be32(p + 4); }

/// A bounds-checked reader over one value or message.
struct Cursor {
  const uint8_t* p;
  const uint8_t* end;
  size_t left() const { return static_cast<size_t>(end - p); }
  bool Int16(int16_t* v) {
    if (left() < 2) return false;
    *v = static_cast<int16_t>(Be16(p));
    p += 2;
    return true;
  }
  bool Int32(int32_t* v) {
    if (left() < 4) return false;
    *v = static_cast<int32_t>(Be32(p));
    p += 4;
    return true;
  }
};

// ---- numeric -------------------------------------------------------------------------------

constexpr uint16_t kNumericPos = 0x0000;
constexpr uint16_t kNumericNeg = 0x4000;
constexpr uint16_t kNumericNaN = 0xC000;
constexpr uint16_t kNumericPinf = 0xD000;
constexpr uint16_t kNumericNinf = 0xF000;

struct Numeric {
  int ndigits = 0;
  int weight = 0;  // the first digit multiplies 10000^weight
  uint16_t sign = kNumericPos;
  int dscale = 0;                   // digits shown after the decimal point
  const uint8_t* digits = nullptr;  // ndigits big-endian int16 base-10000 digits
  int Digit(int i) const { return (i >= 0 && i < ndigits) ? static_cast<int16_t>(Be16(digits + 2 * i)) : 0; }
};

bool ParseNumeric(const uint8_t* p, int32_t len, Numeric* n, std::string* why) {
  if (len < 8) {
    *why = "numeric value shorter than its 8-byte header";
    return false;
  }
  n->ndigits = static_cast<int16_t>(Be16(p));
  n->weight = static_cast<int16_t>(Be16(p + 2));
  n->sign = Be16(p + 4);
  n->dscale = static_cast<int16_t>(Be16(p + 6));
  n->digits = p + 8;
  if (n->ndigits < 0 || len != 8 + 2 * n->ndigits || n->dscale < 0) {
    *why = "numeric value with an inconsistent length";
    return false;
  }
  if (n->sign != kNumericPos && n->sign != kNumericNeg && n->sign != kNumericNaN && n->sign != kNumericPinf &&
      n->sign != kNumericNinf) {
    *why = "numeric value with an unknown sign";
    return false;
  }
  for (int i = 0; i < n->ndigits; ++i) {
    int d = n->Digit(i);
    if (d < 0 || d > 9999) {
      *why = "numeric value with a digit outside 0..9999";
      return false;
    }
  }
  return true;
}

/// The text PostgreSQL itself prints (numeric_out): exact, with dscale fractional digits.
std::string NumericToText(const Numeric& n) {
  if (n.sign == kNumericNaN) return "NaN";
  if (n.sign == kNumericPinf) return "Infinity";
  if (n.sign == kNumericNinf) return "-Infinity";
  std::string out;
  out.reserve(static_cast<size_t>(4 * (std::max(n.weight, 0) + 1) + n.dscale + 2));
  if (n.sign == kNumericNeg) out += '-';
  char group[8];
  if (n.weight < 0) {
    out += '0';
  } else {
    for (int i = 0; i <= n.weight; ++i) {
      std::snprintf(group, sizeof(group), i == 0 ? "%d" : "%04d", n.Digit(i));
      out += group;
    }
  }
  if (n.dscale > 0) {
    out += '.';
    int produced = 0;
    for (int i = n.weight + 1; produced < n.dscale; ++i) {
      std::snprintf(group, sizeof(group), "%04d", n.Digit(i));
      for (int k = 0; k < 4 && produced < n.dscale; ++k, ++produced) out += group[k];
    }
  }
  return out;
}

/// 10^e for e in 0..38.
Int128Native Pow10(int e) {
  static const std::array<Int128Native, 39> kPowers = [] {
    std::array<Int128Native, 39> t{};
    t[0] = 1;
    for (size_t i = 1; i < t.size(); ++i) t[i] = t[i - 1] * 10;
    return t;
  }();
  return kPowers[static_cast<size_t>(e)];
}

/// value * 10^scale as an integer below 10^38; false when it does not fit or would lose digits.
bool NumericToUnscaled(const Numeric& n, int scale, Int128Native* out, std::string* why) {
  if (n.sign == kNumericNaN || n.sign == kNumericPinf || n.sign == kNumericNinf) {
    *why = fmt::format(
        "{} cannot be stored in a DECIMAL column; cast the column to text or double precision in "
        "the query",
        NumericToText(n));
    return false;
  }
  static const Int128Native kLimit = Pow10(38);
  Int128Native acc = 0;
  for (int i = 0; i < n.ndigits; ++i) {
    int d = n.Digit(i);
    if (d == 0) continue;
    int e = 4 * (n.weight - i) + scale;  // this digit is d * 10^e in the unscaled value
    if (e < 0) {
      Int128Native div = e >= -4 ? Pow10(-e) : 0;
      if (div == 0 || d % div != 0) {
        *why = fmt::format("{} has more fractional digits than the column's scale {}", NumericToText(n), scale);
        return false;
      }
      acc += d / div;
    } else {
      if (e > 38 || Int128Native{d} >= Pow10(38 - e) || Int128Native{d} * Pow10(e) >= kLimit - acc) {
        *why = fmt::format("{} does not fit in 38 digits", NumericToText(n));
        return false;
      }
      acc += Int128Native{d} * Pow10(e);
    }
    if (acc >= kLimit) {
      *why = fmt::format("{} does not fit in 38 digits", NumericToText(n));
      return false;
    }
  }
  *out = n.sign == kNumericNeg ? -acc : acc;
  return true;
}

// ---- values into the appender --------------------------------------------------------------

/// Where a decoded value goes: a top-level column of the current row...
struct ColumnSink {
  engine::Appender* a;
  size_t col;
  void Null() { a->SetNull(col); }
  void Bool(bool v) { a->SetBool(col, v); }
  void Int16(int16_t v) { a->SetInt16(col, v); }
  void Int32(int32_t v) { a->SetInt32(col, v); }
  void Int64(int64_t v) { a->SetInt64(col, v); }
  void Float(float v) { a->SetFloat(col, v); }
  void Double(double v) { a->SetDouble(col, v); }
  void Varchar(std::string_view v) { a->SetVarchar(col, v); }
  void Blob(std::string_view v) { a->SetBlob(col, v); }
  void Date(int32_t v) { a->SetDate(col, v); }
  void Time(int64_t v) { a->SetTime(col, v); }
  void Timestamp(int64_t v) { a->SetTimestamp(col, v); }
  void Interval(const engine::Interval& v) { a->SetInterval(col, v); }
  void Uuid(const uint8_t (&v)[16]) { a->SetUuid(col, v); }
  void Decimal(engine::Int128 v) { a->SetDecimal(col, v); }
};

/// ...or the next element of a list.
struct ElementSink {
  engine::ListBuilder* l;
  void Null() { l->AddNull(); }
  void Bool(bool v) { l->AddBool(v); }
  void Int16(int16_t v) { l->AddInt16(v); }
  void Int32(int32_t v) { l->AddInt32(v); }
  void Int64(int64_t v) { l->AddInt64(v); }
  void Float(float v) { l->AddFloat(v); }
  void Double(double v) { l->AddDouble(v); }
  void Varchar(std::string_view v) { l->AddVarchar(v); }
  void Blob(std::string_view v) { l->AddBlob(v); }
  void Date(int32_t v) { l->AddDate(v); }
  void Time(int64_t v) { l->AddTime(v); }
  void Timestamp(int64_t v) { l->AddTimestamp(v); }
  void Interval(const engine::Interval& v) { l->AddInterval(v); }
  void Uuid(const uint8_t (&v)[16]) { l->AddUuid(v); }
  void Decimal(engine::Int128 v) { l->AddDecimal(v); }
};

bool WrongLength(WireType wire, int32_t len, int32_t want, std::string* why) {
  if (len == want) return false;
  *why = fmt::format("a {} value of {} bytes (expected {})", WireTypeName(wire), len, want);
  return true;
}

bool ConvertTimestamp(int64_t pg, int64_t* out, std::string* why) {
  // PostgreSQL's +-infinity are the int64 extremes; DuckDB's are +-INT64_MAX.
  if (pg == std::numeric_limits<int64_t>::max()) {
    *out = std::numeric_limits<int64_t>::max();
  } else if (pg == std::numeric_limits<int64_t>::min()) {
    *out = -std::numeric_limits<int64_t>::max();
  } else if (__builtin_add_overflow(pg, kEpochDiffMicros, out) || *out == std::numeric_limits<int64_t>::max() ||
             *out <= -std::numeric_limits<int64_t>::max()) {
    *why = "a timestamp beyond the range DuckDB can store (about 290000 years from 1970)";
    return false;
  }
  return true;
}

bool ConvertDate(int32_t pg, int32_t* out, std::string* why) {
  if (pg == std::numeric_limits<int32_t>::max()) {
    *out = std::numeric_limits<int32_t>::max();
  } else if (pg == std::numeric_limits<int32_t>::min()) {
    *out = -std::numeric_limits<int32_t>::max();
  } else {
    int64_t days = int64_t{pg} + kEpochDiffDays;
    if (days >= std::numeric_limits<int32_t>::max() || days <= -std::numeric_limits<int32_t>::max()) {
      *why = "a date beyond the range DuckDB can store";
      return false;
    }
    *out = static_cast<int32_t>(days);
  }
  return true;
}

/// Decodes one non-array value of `wire` into `sink`. False (with the reason) on malformed data.
template <typename Sink>
bool DecodeScalar(WireType wire, const engine::AppendColumn& target, const uint8_t* p, int32_t len, Sink& sink,
                  std::string* why) {
  switch (wire) {
    case WireType::kBool:
      if (WrongLength(wire, len, 1, why)) return false;
      sink.Bool(p[0] != 0);
      return true;
    case WireType::kInt2:
      if (WrongLength(wire, len, 2, why)) return false;
      sink.Int16(static_cast<int16_t>(Be16(p)));
      return true;
    case WireType::kInt4:
      if (WrongLength(wire, len, 4, why)) return false;
      sink.Int32(static_cast<int32_t>(Be32(p)));
      return true;
    case WireType::kInt8:
      if (WrongLength(wire, len, 8, why)) return false;
      sink.Int64(static_cast<int64_t>(Be64(p)));
      return true;
    case WireType::kOid:
      if (WrongLength(wire, len, 4, why)) return false;
      sink.Int64(int64_t{Be32(p)});
      return true;
    case WireType::kFloat4: {
      if (WrongLength(wire, len, 4, why)) return false;
      uint32_t bits = Be32(p);
      float v;
      std::memcpy(&v, &bits, sizeof(v));
      sink.Float(v);
      return true;
    }
    case WireType::kFloat8: {
      if (WrongLength(wire, len, 8, why)) return false;
      uint64_t bits = Be64(p);
      double v;
      std::memcpy(&v, &bits, sizeof(v));
      sink.Double(v);
      return true;
    }
    case WireType::kNumeric: {
      Numeric n;
      if (!ParseNumeric(p, len, &n, why)) return false;
      if (target.kind == ColumnKind::kDecimal) {
        Int128Native v;
        if (!NumericToUnscaled(n, target.scale, &v, why)) return false;
        sink.Decimal(engine::Int128{static_cast<uint64_t>(v), static_cast<int64_t>(v >> 64)});
      } else {
        sink.Varchar(NumericToText(n));
      }
      return true;
    }
    case WireType::kText:
      // Text never holds NUL in PostgreSQL; a lone 0 byte is the empty value of type "char",
      // which PostgreSQL itself prints as ''.
      if (len == 1 && p[0] == 0) {
        sink.Varchar(std::string_view());
        return true;
      }
      sink.Varchar(std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(len)));
      return true;
    case WireType::kJson:
      sink.Varchar(std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(len)));
      return true;
    case WireType::kJsonb:
      if (len < 1 || p[0] != 1) {
        *why = "a jsonb value in an unknown binary version (expected 1)";
        return false;
      }
      sink.Varchar(std::string_view(reinterpret_cast<const char*>(p + 1), static_cast<size_t>(len - 1)));
      return true;
    case WireType::kBytea:
      sink.Blob(std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(len)));
      return true;
    case WireType::kDate: {
      if (WrongLength(wire, len, 4, why)) return false;
      int32_t days;
      if (!ConvertDate(static_cast<int32_t>(Be32(p)), &days, why)) return false;
      sink.Date(days);
      return true;
    }
    case WireType::kTime:
      if (WrongLength(wire, len, 8, why)) return false;
      sink.Time(static_cast<int64_t>(Be64(p)));
      return true;
    case WireType::kTimestamp:
    case WireType::kTimestampTz: {
      if (WrongLength(wire, len, 8, why)) return false;
      int64_t micros;
      if (!ConvertTimestamp(static_cast<int64_t>(Be64(p)), &micros, why)) return false;
      sink.Timestamp(micros);
      return true;
    }
    case WireType::kInterval:
      if (WrongLength(wire, len, 16, why)) return false;
      sink.Interval(engine::Interval{static_cast<int32_t>(Be32(p + 12)), static_cast<int32_t>(Be32(p + 8)),
                                     static_cast<int64_t>(Be64(p))});
      return true;
    case WireType::kUuid: {
      if (WrongLength(wire, len, 16, why)) return false;
      uint8_t bytes[16];
      std::memcpy(bytes, p, 16);
      sink.Uuid(bytes);
      return true;
    }
    case WireType::kArray: *why = "an array nested in an array"; return false;
  }
  *why = "an unknown wire type";
  return false;
}

/// array_send: ndim, has-nulls flag, element OID, (size, lower bound) per dimension, then
/// (length, bytes) per element with -1 for NULL.
bool DecodeArray(const PgColumn& column, const uint8_t* p, int32_t len, engine::Appender* appender, size_t col,
                 std::string* why) {
  Cursor c{p, p + len};
  int32_t ndim = 0;
  int32_t flags = 0;
  int32_t element_oid = 0;
  if (!c.Int32(&ndim) || !c.Int32(&flags) || !c.Int32(&element_oid)) {
    *why = "an array value shorter than its header";
    return false;
  }
  engine::ListBuilder list = appender->BeginList(col);
  if (ndim == 0) return true;  // '{}'
  if (ndim != 1) {
    *why = fmt::format(
        "a {}-dimensional array; only one-dimensional arrays map to a LIST; cast the column to text "
        "in the query ({}::text)",
        ndim, QuoteIdent(column.name));
    return false;
  }
  int32_t count = 0;
  int32_t lower_bound = 0;
  if (!c.Int32(&count) || !c.Int32(&lower_bound) || count < 0) {
    *why = "an array value with a malformed dimension";
    return false;
  }
  ElementSink sink{&list};
  const engine::AppendColumn& element_target = column.target.element[0];
  for (int32_t i = 0; i < count; ++i) {
    int32_t element_len = 0;
    if (!c.Int32(&element_len)) {
      *why = "an array value that ends before its elements";
      return false;
    }
    if (element_len == -1) {
      sink.Null();
      continue;
    }
    if (element_len < 0 || static_cast<size_t>(element_len) > c.left()) {
      *why = "an array element longer than the array";
      return false;
    }
    if (!DecodeScalar(column.element_wire, element_target, c.p, element_len, sink, why)) return false;
    c.p += element_len;
  }
  if (c.left() != 0) {
    *why = "trailing bytes after the array's elements";
    return false;
  }
  return true;
}

}  // namespace

CopyDecoder::CopyDecoder(std::vector<PgColumn> columns, std::string endpoint, int last_value_index)
    : columns_(std::move(columns)), endpoint_(std::move(endpoint)), last_value_index_(last_value_index) {}

Status CopyDecoder::DecodeMessage(engine::Appender& into, const uint8_t* data, size_t size, bool* trailer) {
  *trailer = false;
  if (!header_seen_) {
    // Signature, flags (bit 16: OIDs included, which we never ask for), then a header extension.
    if (size < kSignatureSize + 8 || std::memcmp(data, kCopySignature, kSignatureSize) != 0) {
      return Status::DataError("PostgreSQL {}: the COPY stream does not start with the binary signature", endpoint_);
    }
    uint32_t flags = Be32(data + kSignatureSize);
    uint32_t extension = Be32(data + kSignatureSize + 4);
    size_t header = kSignatureSize + 8 + extension;
    if ((flags & (1u << 16)) != 0 || header > size) {
      return Status::DataError("PostgreSQL {}: unsupported COPY binary header (flags {:#x})", endpoint_, flags);
    }
    header_seen_ = true;
    data += header;
    size -= header;
  }
  if (size == 2 && Be16(data) == 0xFFFF) {
    *trailer = true;
    return Status::OK();
  }
  return DecodeRow(into, data, size);
}

Status CopyDecoder::DecodeRow(engine::Appender& into, const uint8_t* data, size_t size) {
  Cursor c{data, data + size};
  int16_t fields = 0;
  if (!c.Int16(&fields) || static_cast<size_t>(fields) != columns_.size()) {
    return Status::DataError("PostgreSQL {}: COPY row {} has {} fields, expected {}", endpoint_, rows_decoded_ + 1,
                             fields, columns_.size());
  }
  engine::Appender* a = &into;
  std::string why;
  for (size_t col = 0; col < columns_.size(); ++col) {
    int32_t len = 0;
    if (!c.Int32(&len) || (len >= 0 && static_cast<size_t>(len) > c.left()) || len < -1) {
      return Status::DataError("PostgreSQL {}: COPY row {} is truncated at column '{}'", endpoint_, rows_decoded_ + 1,
                               columns_[col].name);
    }
    if (len == -1) {
      a->SetNull(col);
      continue;
    }
    const PgColumn& column = columns_[col];
    bool ok;
    if (column.wire == WireType::kArray) {
      ok = DecodeArray(column, c.p, len, a, col, &why);
    } else {
      ColumnSink sink{a, col};
      ok = DecodeScalar(column.wire, column.target, c.p, len, sink, &why);
    }
    if (!ok) {
      return Status::DataError("PostgreSQL {}: row {}, column '{}' ({}): {}", endpoint_, rows_decoded_ + 1, column.name,
                               column.type_name, why);
    }
    // Only after the value decoded: its length is then the integer's width.
    if (static_cast<int>(col) == last_value_index_) {
      last_value_ = len == 2   ? static_cast<int16_t>(Be16(c.p))
                    : len == 4 ? static_cast<int32_t>(Be32(c.p))
                               : static_cast<int64_t>(Be64(c.p));
      if (!first_value_) first_value_ = last_value_;
    }
    c.p += len;
  }
  if (c.left() != 0) {
    return Status::DataError("PostgreSQL {}: COPY row {} has {} unexpected trailing bytes", endpoint_,
                             rows_decoded_ + 1, c.left());
  }
  if (Status st = a->EndRow(); !st.ok()) {
    return st.WithContext("PostgreSQL {}: row {}", endpoint_, rows_decoded_ + 1);
  }
  ++rows_decoded_;
  return Status::OK();
}

}  // namespace sluice::postgres
