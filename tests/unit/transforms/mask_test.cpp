#include "transforms/mask.hpp"
#include "unit/engine_support.hpp"

#include <gtest/gtest.h>

namespace sluice::transforms {
namespace {

class MaskTest : public ::testing::Test, protected test_support::WithEngine {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenEngine());
    ASSERT_TRUE(conn_
                    ->Execute("CREATE TABLE people AS SELECT * FROM (VALUES "
                              "(1, 'what do ya want for nothing?', '0176123454821', 12345), "
                              "(2, NULL, 'ab', NULL)) t(id, note, phone, account)")
                    .ok());
  }

  engine::TextResult Select(const std::vector<ColumnMask>& masks, const Secret& key) {
    auto sql = MaskedSelect(*conn_, "people", masks, key);
    EXPECT_TRUE(sql.ok()) << sql.status();
    auto result = conn_->Query(*sql + " ORDER BY id");
    EXPECT_TRUE(result.ok()) << result.status();
    return std::move(result).value();
  }
};

TEST_F(MaskTest, HashIsTheKeyedHmacOfTheValueText) {
  // RFC 4231, test case 2.
  auto result = Select({{"note", MaskMethod::kHash}}, Secret("Jefe"));
  EXPECT_EQ(result.Get(0, "note"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_FALSE(result.rows[1][result.ColumnIndex("note")].has_value()) << "NULL must stay NULL";
  EXPECT_EQ(result.Get(0, "phone"), "0176123454821") << "unmasked columns pass through";
  EXPECT_EQ(result.column_names, (std::vector<std::string>{"id", "note", "phone", "account"}));
}

TEST_F(MaskTest, DifferentKeysGiveDifferentHashesAndTheKeyNeverAppearsInSql) {
  auto sql = MaskedSelect(*conn_, "people", {{"account", MaskMethod::kHash}}, Secret("first-key-value"));
  ASSERT_TRUE(sql.ok()) << sql.status();
  EXPECT_EQ(sql->find("first-key-value"), std::string::npos);
  auto a = Select({{"account", MaskMethod::kHash}}, Secret("first-key-value"));
  auto b = Select({{"account", MaskMethod::kHash}}, Secret("second-key-value"));
  EXPECT_EQ(a.Get(0, "account").size(), 64u);
  EXPECT_NE(a.Get(0, "account"), b.Get(0, "account"));
  // Same key again (function already registered): same values.
  EXPECT_EQ(Select({{"account", MaskMethod::kHash}}, Secret("first-key-value")).Get(0, "account"), a.Get(0, "account"));
}

TEST_F(MaskTest, RedactAndPartialKeepNulls) {
  ColumnMask partial{"phone", MaskMethod::kPartial, 4};
  auto result = Select({{"note", MaskMethod::kRedact}, partial, {"account", MaskMethod::kPartial, 2}}, Secret());
  EXPECT_EQ(result.Get(0, "note"), "***");
  EXPECT_FALSE(result.rows[1][result.ColumnIndex("note")].has_value());
  EXPECT_EQ(result.Get(0, "phone"), "*********4821");
  EXPECT_EQ(result.Get(1, "phone"), "**") << "a value no longer than the visible part is starred out whole";
  EXPECT_EQ(result.Get(0, "account"), "***45");
  EXPECT_FALSE(result.rows[1][result.ColumnIndex("account")].has_value());
}

TEST_F(MaskTest, HashWithoutKeySaysWhereToSetOne) {
  auto sql = MaskedSelect(*conn_, "people", {{"phone", MaskMethod::kHash}}, Secret());
  ASSERT_FALSE(sql.ok());
  EXPECT_NE(sql.status().message().find("masking:"), std::string::npos) << sql.status();
  EXPECT_NE(sql.status().message().find("'phone'"), std::string::npos) << sql.status();
}

TEST_F(MaskTest, UnknownColumnNamesTheNearestOne) {
  auto sql = MaskedSelect(*conn_, "people", {{"phnoe", MaskMethod::kRedact}}, Secret());
  ASSERT_FALSE(sql.ok());
  EXPECT_NE(sql.status().message().find("did you mean 'phone'"), std::string::npos) << sql.status();
}

TEST(MaskMethodTest, ParsesNamesAndHintsOnTypos) {
  EXPECT_EQ(*ParseMaskMethod("partial"), MaskMethod::kPartial);
  auto bad = ParseMaskMethod("redcat");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("did you mean 'redact'"), std::string::npos) << bad.status();
}

}  // namespace
}  // namespace sluice::transforms
