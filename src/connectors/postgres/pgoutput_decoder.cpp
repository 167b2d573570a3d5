#include "connectors/postgres/pgoutput_decoder.hpp"

#include <fmt/format.h>

#include <charconv>

namespace sluice::postgres {
namespace {

/// A bounds-checked cursor over one message; every getter fails instead of reading past the end.
class ByteReader {
 public:
  ByteReader(std::string_view bytes, std::string_view what) : bytes_(bytes), what_(what) {}

  size_t remaining() const { return bytes_.size() - pos_; }
  size_t position() const { return pos_; }

  Result<uint8_t> U8() {
    SLUICE_TRY(Need(1));
    return static_cast<uint8_t>(bytes_[pos_++]);
  }
  Result<uint16_t> U16() {
    SLUICE_TRY(Need(2));
    uint16_t v = static_cast<uint16_t>((Byte(0) << 8) | Byte(1));
    pos_ += 2;
    return v;
  }
  Result<uint32_t> U32() {
    SLUICE_TRY(Need(4));
    uint32_t v = (Byte(0) << 24) | (Byte(1) << 16) | (Byte(2) << 8) | Byte(3);
    pos_ += 4;
    return v;
  }
  Result<uint64_t> U64() {
    SLUICE_ASSIGN_OR_RETURN(uint64_t high, U32());
    SLUICE_ASSIGN_OR_RETURN(uint64_t low, U32());
    return (high << 32) | low;
  }
  Result<int64_t> I64() {
    SLUICE_ASSIGN_OR_RETURN(uint64_t v, U64());
    return static_cast<int64_t>(v);
  }
  Result<Lsn> LsnValue() {
    SLUICE_ASSIGN_OR_RETURN(uint64_t v, U64());
    return Lsn{v};
  }
  /// A NUL-terminated string.
  Result<std::string> CString() {
    size_t end = bytes_.find('\0', pos_);
    if (end == std::string_view::npos) return Malformed("a string without its terminating NUL");
    std::string s(bytes_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }
  Result<std::string_view> Bytes(size_t n) {
    SLUICE_TRY(Need(n));
    std::string_view s = bytes_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string_view Rest() {
    std::string_view s = bytes_.substr(pos_);
    pos_ = bytes_.size();
    return s;
  }
  Status End() const {
    if (pos_ != bytes_.size()) {
      return Status::DataError("malformed {} message: {} unexpected bytes after its end (at byte {})", what_,
                               bytes_.size() - pos_, pos_);
    }
    return Status::OK();
  }
  Status Malformed(std::string_view problem) const {
    return Status::DataError("malformed {} message: {} at byte {} of {}", what_, problem, pos_, bytes_.size());
  }

 private:
  uint32_t Byte(size_t i) const { return static_cast<uint8_t>(bytes_[pos_ + i]); }
  Status Need(size_t n) const {
    if (remaining() < n) {
      return Status::DataError("malformed {} message: {} bytes needed at byte {} but only {} left", what_, n, pos_,
                               remaining());
    }
    return Status::OK();
  }

  std::string_view bytes_;
  std::string_view what_;
  size_t pos_ = 0;
};

Result<Tuple> ReadTuple(ByteReader& in) {
  SLUICE_ASSIGN_OR_RETURN(uint16_t count, in.U16());
  if (count > kMaxTupleColumns)
    return in.Malformed(fmt::format("a tuple of {} columns (at most {})", count, kMaxTupleColumns));
  // Each column takes at least one byte: a count beyond what is left is refused before allocating.
  if (count > in.remaining())
    return in.Malformed(fmt::format("a tuple of {} columns in {} bytes", count, in.remaining()));
  Tuple tuple(count);
  for (auto& value : tuple) {
    SLUICE_ASSIGN_OR_RETURN(uint8_t kind, in.U8());
    switch (kind) {
      case 'n': value.kind = TupleValueKind::kNull; break;
      case 'u': value.kind = TupleValueKind::kUnchangedToast; break;
      case 't': {
        value.kind = TupleValueKind::kText;
        SLUICE_ASSIGN_OR_RETURN(uint32_t length, in.U32());
        SLUICE_ASSIGN_OR_RETURN(auto text, in.Bytes(length));
        value.text.assign(text);
        break;
      }
      case 'b': return in.Malformed("binary tuple data (sluice asks for text: proto_version 1 without binary)");
      default: return in.Malformed(fmt::format("unknown tuple value kind 0x{:02x}", kind));
    }
  }
  return tuple;
}

Result<PgOutputMessage> DecodeBegin(ByteReader& in) {
  BeginMessage m;
  SLUICE_ASSIGN_OR_RETURN(m.final_lsn, in.LsnValue());
  SLUICE_ASSIGN_OR_RETURN(m.commit_time_us, in.I64());
  SLUICE_ASSIGN_OR_RETURN(m.xid, in.U32());
  return PgOutputMessage(std::move(m));
}

Result<PgOutputMessage> DecodeCommit(ByteReader& in) {
  CommitMessage m;
  SLUICE_ASSIGN_OR_RETURN(m.flags, in.U8());
  SLUICE_ASSIGN_OR_RETURN(m.commit_lsn, in.LsnValue());
  SLUICE_ASSIGN_OR_RETURN(m.end_lsn, in.LsnValue());
  SLUICE_ASSIGN_OR_RETURN(m.commit_time_us, in.I64());
  return PgOutputMessage(std::move(m));
}

Result<PgOutputMessage> DecodeOrigin(ByteReader& in) {
  OriginMessage m;
  SLUICE_ASSIGN_OR_RETURN(m.commit_lsn, in.LsnValue());
  SLUICE_ASSIGN_OR_RETURN(m.name, in.CString());
  return PgOutputMessage(std::move(m));
}

Result<PgOutputMessage> DecodeRelation(ByteReader& in) {
  RelationMessage m;
  SLUICE_ASSIGN_OR_RETURN(m.oid, in.U32());
  SLUICE_ASSIGN_OR_RETURN(m.schema, in.CString());
  SLUICE_ASSIGN_OR_RETURN(m.name, in.CString());
  SLUICE_ASSIGN_OR_RETURN(uint8_t identity, in.U8());
  if (identity != 'd' && identity != 'n' && identity != 'f' && identity != 'i') {
    return in.Malformed(fmt::format("unknown replica identity 0x{:02x}", identity));
  }
  m.replica_identity = static_cast<char>(identity);
  SLUICE_ASSIGN_OR_RETURN(uint16_t count, in.U16());
  if (count > kMaxTupleColumns) return in.Malformed(fmt::format("a relation of {} columns", count));
  // A column takes at least 10 bytes (flags, empty name, type, modifier).
  if (size_t{count} * 10 > in.remaining())
    return in.Malformed(fmt::format("{} columns in {} bytes", count, in.remaining()));
  m.columns.resize(count);
  for (auto& c : m.columns) {
    SLUICE_ASSIGN_OR_RETURN(uint8_t flags, in.U8());
    c.key = (flags & 1) != 0;
    SLUICE_ASSIGN_OR_RETURN(c.name, in.CString());
    SLUICE_ASSIGN_OR_RETURN(c.type_oid, in.U32());
    SLUICE_ASSIGN_OR_RETURN(uint32_t modifier, in.U32());
    c.type_modifier = static_cast<int32_t>(modifier);
  }
  return PgOutputMessage(std::move(m));
}

Result<PgOutputMessage> DecodeType(ByteReader& in) {
  TypeMessage m;
  SLUICE_ASSIGN_OR_RETURN(m.oid, in.U32());
  SLUICE_ASSIGN_OR_RETURN(m.schema, in.CString());
  SLUICE_ASSIGN_OR_RETURN(m.name, in.CString());
  return PgOutputMessage(std::move(m));
}

Status ExpectNew(ByteReader& in, uint8_t marker) {
  if (marker != 'N') return in.Malformed(fmt::format("new tuple marker 0x{:02x} instead of 'N'", marker));
  return Status::OK();
}

Result<PgOutputMessage> DecodeInsert(ByteReader& in) {
  InsertMessage m;
  SLUICE_ASSIGN_OR_RETURN(m.relation, in.U32());
  SLUICE_ASSIGN_OR_RETURN(uint8_t marker, in.U8());
  SLUICE_TRY(ExpectNew(in, marker));
  SLUICE_ASSIGN_OR_RETURN(m.new_tuple, ReadTuple(in));
  return PgOutputMessage(std::move(m));
}

Result<PgOutputMessage> DecodeUpdate(ByteReader& in) {
  UpdateMessage m;
  SLUICE_ASSIGN_OR_RETURN(m.relation, in.U32());
  SLUICE_ASSIGN_OR_RETURN(uint8_t marker, in.U8());
  if (marker == 'K' || marker == 'O') {
    m.old_kind = static_cast<char>(marker);
    SLUICE_ASSIGN_OR_RETURN(m.old_tuple, ReadTuple(in));
    SLUICE_ASSIGN_OR_RETURN(marker, in.U8());
  }
  SLUICE_TRY(ExpectNew(in, marker));
  SLUICE_ASSIGN_OR_RETURN(m.new_tuple, ReadTuple(in));
  return PgOutputMessage(std::move(m));
}

Result<PgOutputMessage> DecodeDelete(ByteReader& in) {
  DeleteMessage m;
  SLUICE_ASSIGN_OR_RETURN(m.relation, in.U32());
  SLUICE_ASSIGN_OR_RETURN(uint8_t marker, in.U8());
  if (marker != 'K' && marker != 'O')
    return in.Malformed(fmt::format("old tuple marker 0x{:02x} instead of 'K' or 'O'", marker));
  m.old_kind = static_cast<char>(marker);
  SLUICE_ASSIGN_OR_RETURN(m.old_tuple, ReadTuple(in));
  return PgOutputMessage(std::move(m));
}

Result<PgOutputMessage> DecodeTruncate(ByteReader& in) {
  TruncateMessage m;
  SLUICE_ASSIGN_OR_RETURN(uint32_t count, in.U32());
  SLUICE_ASSIGN_OR_RETURN(uint8_t options, in.U8());
  m.cascade = (options & 1) != 0;
  m.restart_identity = (options & 2) != 0;
  if (size_t{count} * 4 != in.remaining()) {
    return in.Malformed(fmt::format("{} relations in {} bytes", count, in.remaining()));
  }
  m.relations.resize(count);
  for (auto& oid : m.relations) {
    SLUICE_ASSIGN_OR_RETURN(oid, in.U32());
  }
  return PgOutputMessage(std::move(m));
}

Result<PgOutputMessage> DecodeMessage(ByteReader& in) {
  LogicalMessage m;
  SLUICE_ASSIGN_OR_RETURN(uint8_t flags, in.U8());
  m.transactional = (flags & 1) != 0;
  SLUICE_ASSIGN_OR_RETURN(m.lsn, in.LsnValue());
  SLUICE_ASSIGN_OR_RETURN(m.prefix, in.CString());
  SLUICE_ASSIGN_OR_RETURN(uint32_t length, in.U32());
  SLUICE_ASSIGN_OR_RETURN(auto content, in.Bytes(length));
  m.content.assign(content);
  return PgOutputMessage(std::move(m));
}

std::string_view NameOfType(char type) {
  switch (type) {
    case 'B': return "Begin";
    case 'C': return "Commit";
    case 'O': return "Origin";
    case 'R': return "Relation";
    case 'Y': return "Type";
    case 'I': return "Insert";
    case 'U': return "Update";
    case 'D': return "Delete";
    case 'T': return "Truncate";
    case 'M': return "Message";
    default: return "pgoutput";
  }
}

void PutU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xff));
}

}  // namespace

std::string FormatLsn(Lsn lsn) {
  return fmt::format("{:X}/{:X}", static_cast<uint32_t>(lsn.value >> 32), static_cast<uint32_t>(lsn.value));
}

Result<Lsn> ParseLsn(std::string_view text) {
  size_t slash = text.find('/');
  auto bad = [&] { return Status::DataError("'{}' is not a WAL position (pg_lsn such as 16/B374D848)", text); };
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == text.size() || slash > 8 ||
      text.size() - slash - 1 > 8) {
    return bad();
  }
  uint32_t high = 0, low = 0;
  auto h = std::from_chars(text.data(), text.data() + slash, high, 16);
  auto l = std::from_chars(text.data() + slash + 1, text.data() + text.size(), low, 16);
  if (h.ec != std::errc() || h.ptr != text.data() + slash || l.ec != std::errc() ||
      l.ptr != text.data() + text.size()) {
    return bad();
  }
  return Lsn{(uint64_t{high} << 32) | low};
}

Result<ReplicationFrame> DecodeReplicationFrame(std::string_view bytes) {
  if (bytes.empty()) return Status::DataError("malformed replication frame: empty CopyData message");
  char type = bytes[0];
  if (type == 'w') {
    ByteReader in(bytes.substr(1), "XLogData");
    XLogData d;
    SLUICE_ASSIGN_OR_RETURN(d.start, in.LsnValue());
    SLUICE_ASSIGN_OR_RETURN(d.wal_end, in.LsnValue());
    SLUICE_ASSIGN_OR_RETURN(d.send_time_us, in.I64());
    d.payload = in.Rest();
    return ReplicationFrame(d);
  }
  if (type == 'k') {
    ByteReader in(bytes.substr(1), "primary keepalive");
    PrimaryKeepalive k;
    SLUICE_ASSIGN_OR_RETURN(k.wal_end, in.LsnValue());
    SLUICE_ASSIGN_OR_RETURN(k.send_time_us, in.I64());
    SLUICE_ASSIGN_OR_RETURN(uint8_t reply, in.U8());
    k.reply_requested = reply != 0;
    SLUICE_TRY(in.End());
    return ReplicationFrame(k);
  }
  return Status::DataError("malformed replication frame: unknown type 0x{:02x} (expected 'w' or 'k')",
                           static_cast<uint8_t>(type));
}

std::string EncodeStandbyStatus(Lsn write, Lsn flush, Lsn apply, int64_t now_us, bool reply_requested) {
  std::string out;
  out.reserve(34);
  out.push_back('r');
  PutU64(&out, write.value);
  PutU64(&out, flush.value);
  PutU64(&out, apply.value);
  PutU64(&out, static_cast<uint64_t>(now_us));
  out.push_back(reply_requested ? 1 : 0);
  return out;
}

Result<PgOutputMessage> DecodePgOutput(std::string_view bytes) {
  if (bytes.empty()) return Status::DataError("malformed pgoutput message: empty");
  char type = bytes[0];
  ByteReader in(bytes.substr(1), NameOfType(type));
  auto body = [&]() -> Result<PgOutputMessage> {
    switch (type) {
      case 'B': return DecodeBegin(in);
      case 'C': return DecodeCommit(in);
      case 'O': return DecodeOrigin(in);
      case 'R': return DecodeRelation(in);
      case 'Y': return DecodeType(in);
      case 'I': return DecodeInsert(in);
      case 'U': return DecodeUpdate(in);
      case 'D': return DecodeDelete(in);
      case 'T': return DecodeTruncate(in);
      case 'M': return DecodeMessage(in);
      default:
        return Status::DataError(
            "malformed pgoutput message: unknown type 0x{:02x} (streamed or two-phase messages need a protocol "
            "version sluice does not ask for)",
            static_cast<uint8_t>(type));
    }
  };
  SLUICE_ASSIGN_OR_RETURN(auto decoded, body());
  SLUICE_TRY(in.End());
  return decoded;
}

std::string_view PgOutputMessageName(const PgOutputMessage& message) {
  static constexpr const char* kNames[] = {"Begin",  "Commit", "Origin", "Relation", "Type",
                                           "Insert", "Update", "Delete", "Truncate", "Message"};
  return kNames[message.index()];
}

}  // namespace sluice::postgres
