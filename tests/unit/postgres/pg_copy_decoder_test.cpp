// CopyDecoder on hand-made byte streams (no server): malformed input is refused, never read
// past. Inputs found by the pg_copy fuzz target end up here or in tests/fuzz/corpus/pg_copy/.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "connectors/postgres/pg_copy_reader.hpp"
#include "engine/appender.hpp"
#include "engine/engine.hpp"

namespace sluice::postgres {
namespace {

std::string Be16(uint16_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)}; }
std::string Be32(uint32_t v) { return Be16(static_cast<uint16_t>(v >> 16)) + Be16(static_cast<uint16_t>(v & 0xffff)); }
const std::string kHeader("PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", 19);

class CopyDecoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = engine::Database::Open({});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(db).value();
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok()) << conn.status();
    duck_ = std::move(conn).value();
  }

  /// One int4 column "id" (the last-value column) and one text column.
  std::unique_ptr<engine::Appender> Appender(std::vector<PgColumn>* columns) {
    PgColumn id{"id", 23, -1, "integer", WireType::kInt4};
    id.target = {"id", engine::ColumnKind::kInt32};
    PgColumn name{"name", 25, -1, "text", WireType::kText};
    name.target = {"name", engine::ColumnKind::kVarchar};
    *columns = {id, name};
    auto targets = TargetColumns(*columns);
    EXPECT_TRUE(duck_->Execute(engine::CreateTableSql("rows", targets, true)).ok());
    auto appender = engine::Appender::Make(*duck_, "rows", targets);
    EXPECT_TRUE(appender.ok()) << appender.status();
    return appender.ok() ? std::move(*appender) : nullptr;
  }

  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::Connection> duck_;
};

TEST_F(CopyDecoderTest, DecodesRowsAndKeepsFirstAndLastValues) {
  std::vector<PgColumn> columns;
  auto appender = Appender(&columns);
  CopyDecoder decoder(columns, "db:5432", 0);
  bool trailer = false;
  std::string row1 = kHeader + Be16(2) + Be32(4) + Be32(7) + Be32(2) + "ab";
  std::string row2 = Be16(2) + Be32(4) + Be32(9) + Be32(0xffffffff);
  for (const auto& m : {row1, row2}) {
    Status st = decoder.DecodeMessage(*appender, reinterpret_cast<const uint8_t*>(m.data()), m.size(), &trailer);
    ASSERT_TRUE(st.ok()) << st;
    EXPECT_FALSE(trailer);
  }
  std::string end = Be16(0xffff);
  ASSERT_TRUE(
      decoder.DecodeMessage(*appender, reinterpret_cast<const uint8_t*>(end.data()), end.size(), &trailer).ok());
  EXPECT_TRUE(trailer);
  EXPECT_EQ(decoder.rows_decoded(), 2u);
  EXPECT_EQ(decoder.first_value(), 7);
  EXPECT_EQ(decoder.last_value(), 9);
}

TEST_F(CopyDecoderTest, ShortLastValueFieldIsRefusedWithoutReadingPastIt) {
  // A 1-byte value in the int4 last-value column at the very end of the message: the decoder
  // read 8 bytes there (past the buffer: ASan heap-buffer-overflow) before checking the length.
  std::vector<PgColumn> columns;
  auto appender = Appender(&columns);
  CopyDecoder decoder(columns, "db:5432", 0);
  std::string bad = kHeader + Be16(2) + Be32(1) + "x";
  std::vector<uint8_t> exact(bad.begin(), bad.end());  // no slack after the message
  bool trailer = false;
  Status st = decoder.DecodeMessage(*appender, exact.data(), exact.size(), &trailer);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kDataError);
  EXPECT_NE(st.message().find("row 1, column 'id'"), std::string::npos) << st;
  EXPECT_FALSE(decoder.last_value().has_value());  // nothing was taken from the bad field
}

TEST_F(CopyDecoderTest, MissingSignatureAndWrongFieldCountAreDataErrors) {
  std::vector<PgColumn> columns;
  auto appender = Appender(&columns);
  CopyDecoder decoder(columns, "db:5432");
  bool trailer = false;
  std::string no_header = Be16(2) + Be32(4) + Be32(1) + Be32(0);
  Status st =
      decoder.DecodeMessage(*appender, reinterpret_cast<const uint8_t*>(no_header.data()), no_header.size(), &trailer);
  EXPECT_EQ(st.code(), StatusCode::kDataError);
  EXPECT_NE(st.message().find("binary signature"), std::string::npos) << st;

  CopyDecoder second(columns, "db:5432");
  std::string three_fields = kHeader + Be16(3);
  st = second.DecodeMessage(*appender, reinterpret_cast<const uint8_t*>(three_fields.data()), three_fields.size(),
                            &trailer);
  EXPECT_EQ(st.code(), StatusCode::kDataError);
  EXPECT_NE(st.message().find("has 3 fields, expected 2"), std::string::npos) << st;
}

}  // namespace
}  // namespace sluice::postgres
