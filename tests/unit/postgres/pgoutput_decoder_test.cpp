// The pgoutput decoder on hand-made messages (no server): every message type of protocol
// version 1, and malformed input refused with a DataError instead of being read past.

#include "connectors/postgres/pgoutput_decoder.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sluice::postgres {
namespace {

std::string U8(uint8_t v) { return std::string(1, static_cast<char>(v)); }
std::string U16(uint16_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)}; }
std::string U32(uint32_t v) { return U16(static_cast<uint16_t>(v >> 16)) + U16(static_cast<uint16_t>(v & 0xffff)); }
std::string U64(uint64_t v) { return U32(static_cast<uint32_t>(v >> 32)) + U32(static_cast<uint32_t>(v)); }
std::string Str(const std::string& s) { return s + std::string(1, '\0'); }
std::string Text(const std::string& s) { return "t" + U32(static_cast<uint32_t>(s.size())) + s; }

template <typename T>
T Decode(const std::string& bytes) {
  auto decoded = DecodePgOutput(bytes);
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  if (!decoded.ok()) return T{};
  EXPECT_TRUE(std::holds_alternative<T>(*decoded)) << PgOutputMessageName(*decoded);
  if (!std::holds_alternative<T>(*decoded)) return T{};
  return std::get<T>(*decoded);
}

void ExpectMalformed(const std::string& bytes, const std::string& fragment) {
  auto decoded = DecodePgOutput(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kDataError);
  EXPECT_NE(decoded.status().message().find(fragment), std::string::npos) << decoded.status();
}

TEST(PgOutputDecoderTest, BeginAndCommit) {
  auto begin = Decode<BeginMessage>("B" + U64(0x16B374D848) + U64(12345) + U32(777));
  EXPECT_EQ(begin.final_lsn.value, 0x16B374D848u);
  EXPECT_EQ(begin.commit_time_us, 12345);
  EXPECT_EQ(begin.xid, 777u);
  auto commit = Decode<CommitMessage>("C" + U8(0) + U64(100) + U64(180) + U64(999));
  EXPECT_EQ(commit.commit_lsn.value, 100u);
  EXPECT_EQ(commit.end_lsn.value, 180u);
  EXPECT_EQ(commit.commit_time_us, 999);
}

TEST(PgOutputDecoderTest, Relation) {
  auto r = Decode<RelationMessage>("R" + U32(16384) + Str("public") + Str("orders") + "d" + U16(2) + U8(1) + Str("id") +
                                   U32(23) + U32(0xffffffff) + U8(0) + Str("note") + U32(25) + U32(0xffffffff));
  EXPECT_EQ(r.oid, 16384u);
  EXPECT_EQ(r.schema, "public");
  EXPECT_EQ(r.name, "orders");
  EXPECT_EQ(r.replica_identity, 'd');
  ASSERT_EQ(r.columns.size(), 2u);
  EXPECT_TRUE(r.columns[0].key);
  EXPECT_EQ(r.columns[0].name, "id");
  EXPECT_EQ(r.columns[0].type_oid, 23u);
  EXPECT_EQ(r.columns[0].type_modifier, -1);
  EXPECT_FALSE(r.columns[1].key);
  EXPECT_EQ(r.columns[1].name, "note");
}

TEST(PgOutputDecoderTest, InsertWithEveryValueKind) {
  auto m = Decode<InsertMessage>("I" + U32(16384) + "N" + U16(3) + Text("42") + "n" + "u");
  EXPECT_EQ(m.relation, 16384u);
  ASSERT_EQ(m.new_tuple.size(), 3u);
  EXPECT_EQ(m.new_tuple[0].kind, TupleValueKind::kText);
  EXPECT_EQ(m.new_tuple[0].text, "42");
  EXPECT_EQ(m.new_tuple[1].kind, TupleValueKind::kNull);
  EXPECT_EQ(m.new_tuple[2].kind, TupleValueKind::kUnchangedToast);
}

TEST(PgOutputDecoderTest, TextKeepsNewlinesQuotesAndNul) {
  std::string value = std::string("a\nb'\"c\\", 7) + std::string(1, '\0') + "z";
  auto m = Decode<InsertMessage>("I" + U32(1) + "N" + U16(1) + Text(value));
  ASSERT_EQ(m.new_tuple.size(), 1u);
  EXPECT_EQ(m.new_tuple[0].text, value);
}

TEST(PgOutputDecoderTest, UpdateWithAndWithoutOldTuple) {
  auto plain = Decode<UpdateMessage>("U" + U32(7) + "N" + U16(1) + Text("x"));
  EXPECT_EQ(plain.old_kind, 0);
  EXPECT_TRUE(plain.old_tuple.empty());
  ASSERT_EQ(plain.new_tuple.size(), 1u);
  auto key = Decode<UpdateMessage>("U" + U32(7) + "K" + U16(1) + Text("1") + "N" + U16(1) + Text("2"));
  EXPECT_EQ(key.old_kind, 'K');
  EXPECT_EQ(key.old_tuple[0].text, "1");
  EXPECT_EQ(key.new_tuple[0].text, "2");
  auto full = Decode<UpdateMessage>("U" + U32(7) + "O" + U16(2) + Text("1") + "n" + "N" + U16(2) + Text("1") + "u");
  EXPECT_EQ(full.old_kind, 'O');
  EXPECT_EQ(full.new_tuple[1].kind, TupleValueKind::kUnchangedToast);
}

TEST(PgOutputDecoderTest, Delete) {
  auto m = Decode<DeleteMessage>("D" + U32(9) + "K" + U16(2) + Text("5") + "n");
  EXPECT_EQ(m.relation, 9u);
  EXPECT_EQ(m.old_kind, 'K');
  EXPECT_EQ(m.old_tuple[0].text, "5");
  ExpectMalformed("D" + U32(9) + "N" + U16(1) + Text("5"), "old tuple marker");
}

TEST(PgOutputDecoderTest, TruncateTypeOriginMessage) {
  auto t = Decode<TruncateMessage>("T" + U32(2) + U8(3) + U32(10) + U32(11));
  EXPECT_TRUE(t.cascade);
  EXPECT_TRUE(t.restart_identity);
  EXPECT_EQ(t.relations, (std::vector<uint32_t>{10, 11}));
  auto y = Decode<TypeMessage>("Y" + U32(50000) + Str("public") + Str("mood"));
  EXPECT_EQ(y.oid, 50000u);
  EXPECT_EQ(y.name, "mood");
  auto o = Decode<OriginMessage>("O" + U64(77) + Str("upstream"));
  EXPECT_EQ(o.commit_lsn.value, 77u);
  EXPECT_EQ(o.name, "upstream");
  auto m = Decode<LogicalMessage>("M" + U8(1) + U64(88) + Str("sluice") + U32(5) + "hello");
  EXPECT_TRUE(m.transactional);
  EXPECT_EQ(m.prefix, "sluice");
  EXPECT_EQ(m.content, "hello");
}

TEST(PgOutputDecoderTest, MalformedInputIsRefused) {
  ExpectMalformed("", "empty");
  ExpectMalformed("Z", "unknown type");
  ExpectMalformed("B" + U64(1), "bytes needed");
  ExpectMalformed("B" + U64(1) + U64(2) + U32(3) + "x", "unexpected bytes");
  ExpectMalformed("I" + U32(1) + "N" + U16(1) + "t" + U32(1000) + "ab", "bytes needed");
  ExpectMalformed("I" + U32(1) + "N" + U16(2000), "columns");
  ExpectMalformed("I" + U32(1) + "N" + U16(1) + "b" + U32(1) + "x", "binary tuple data");
  ExpectMalformed("I" + U32(1) + "N" + U16(1) + "q", "unknown tuple value kind");
  ExpectMalformed("I" + U32(1) + "X" + U16(0), "new tuple marker");
  ExpectMalformed("R" + U32(1) + Str("s") + "no-nul", "terminating NUL");
  ExpectMalformed("R" + U32(1) + Str("s") + Str("t") + "z" + U16(0), "replica identity");
  ExpectMalformed("R" + U32(1) + Str("s") + Str("t") + "d" + U16(60000), "columns");
  ExpectMalformed("T" + U32(1000000) + U8(0) + U32(1), "relations");
  ExpectMalformed("M" + U8(0) + U64(1) + Str("p") + U32(0xffffffff), "bytes needed");
}

TEST(ReplicationFrameTest, XLogDataAndKeepalive) {
  std::string payload = "B" + U64(5) + U64(6) + U32(7);
  auto w = DecodeReplicationFrame("w" + U64(100) + U64(200) + U64(300) + payload);
  ASSERT_TRUE(w.ok()) << w.status();
  const auto& data = std::get<XLogData>(*w);
  EXPECT_EQ(data.start.value, 100u);
  EXPECT_EQ(data.wal_end.value, 200u);
  EXPECT_EQ(data.payload, payload);
  auto k = DecodeReplicationFrame("k" + U64(400) + U64(500) + U8(1));
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(std::get<PrimaryKeepalive>(*k).wal_end.value, 400u);
  EXPECT_TRUE(std::get<PrimaryKeepalive>(*k).reply_requested);
  EXPECT_FALSE(DecodeReplicationFrame("").ok());
  EXPECT_FALSE(DecodeReplicationFrame("w" + U64(1)).ok());
  EXPECT_FALSE(DecodeReplicationFrame("k" + U64(1) + U64(2) + U8(0) + "x").ok());
  EXPECT_FALSE(DecodeReplicationFrame("q").ok());
}

TEST(ReplicationFrameTest, StandbyStatusLayout) {
  std::string r = EncodeStandbyStatus(Lsn{1}, Lsn{2}, Lsn{3}, 4, true);
  EXPECT_EQ(r, "r" + U64(1) + U64(2) + U64(3) + U64(4) + U8(1));
}

TEST(LsnTest, FormatAndParse) {
  EXPECT_EQ(FormatLsn(Lsn{0x16B374D848}), "16/B374D848");
  EXPECT_EQ(FormatLsn(Lsn{0}), "0/0");
  auto parsed = ParseLsn("16/B374D848");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->value, 0x16B374D848u);
  EXPECT_FALSE(ParseLsn("16B374D848").ok());
  EXPECT_FALSE(ParseLsn("/1").ok());
  EXPECT_FALSE(ParseLsn("1/").ok());
  EXPECT_FALSE(ParseLsn("1/xyz").ok());
  EXPECT_FALSE(ParseLsn("123456789/1").ok());
}

}  // namespace
}  // namespace sluice::postgres
