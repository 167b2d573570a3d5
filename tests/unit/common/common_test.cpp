#include <gtest/gtest.h>

#include "common/clock.hpp"
#include "common/hash.hpp"
#include "common/ids.hpp"
#include "common/secret.hpp"
#include "common/status.hpp"
#include "common/strings.hpp"

namespace sluice {
namespace {

Result<int> ParsePositive(int v) {
  if (v <= 0) return Status::Invalid("value {} is not positive", v);
  return v;
}

Result<int> Doubled(int v) {
  SLUICE_ASSIGN_OR_RETURN(int parsed, ParsePositive(v));
  return parsed * 2;
}

Status CheckAll(int a, int b) {
  SLUICE_TRY(ParsePositive(a));
  SLUICE_TRY(ParsePositive(b));
  return Status::OK();
}

TEST(StatusTest, PropagatesErrorsThroughMacros) {
  EXPECT_EQ(*Doubled(4), 8);
  auto bad = Doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "value -1 is not positive");
  EXPECT_TRUE(CheckAll(1, 2).ok());
  EXPECT_FALSE(CheckAll(1, 0).ok());
}

TEST(StatusTest, RetryableIsDecidedAtTheSource) {
  EXPECT_TRUE(Status::Unavailable("connection refused").retryable());
  EXPECT_FALSE(Status::Invalid("bad key").retryable());
  auto wrapped = Status::Unavailable("refused").WithContext("job {}", "a");
  EXPECT_TRUE(wrapped.retryable());
  EXPECT_EQ(wrapped.message(), "job a: refused");
}

TEST(SecretTest, FormatsMaskedAndRedactorMasksValues) {
  Secret s("hunter2-password");
  EXPECT_EQ(fmt::format("pw={}", s), "pw=***");
  Redactor r;
  r.Add("hunter2-password");
  r.Add("abc");  // short secrets are masked too: only secrets are ever added
  EXPECT_EQ(r.Apply("login with hunter2-password failed; abc"), "login with *** failed; ***");
}

TEST(StringsTest, NearestWordSuggestsCloseKeys) {
  EXPECT_EQ(NearestWord("targt", {"source", "target", "mode"}), "target");
  EXPECT_EQ(NearestWord("zzzzzz", {"source", "target"}), "");
  uint64_t n = 0;
  ASSERT_TRUE(ParseByteSize("10GB", &n));
  EXPECT_EQ(n, 10000000000ULL);
  ASSERT_TRUE(ParseByteSize("512 MiB", &n));
  EXPECT_EQ(n, 512ULL << 20);
  EXPECT_FALSE(ParseByteSize("ten", &n));
  EXPECT_EQ(SqlQuote("O'Brien"), "'O''Brien'");
}

TEST(HashTest, KnownVectors) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HmacSha256Hex("key", "The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}

TEST(ClockTest, ManualClockAndRunIdsSortByTime) {
  ManualClock clock(FromUnixMicros(1'700'000'000'000'000));
  EXPECT_EQ(FormatDateUtc(clock.Now()), "2023-11-14");
  auto first = NewRunId(clock);
  clock.Advance(std::chrono::seconds(1));
  auto second = NewRunId(clock);
  EXPECT_LT(first, second);
  EXPECT_EQ(first.value.substr(0, 16), "20231114T221320Z");
}

}  // namespace
}  // namespace sluice
