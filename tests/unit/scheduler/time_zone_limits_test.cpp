// POSIX TZ rules with absurd numbers: found by the cron fuzz target (tests/fuzz/corpus/cron/),
// where "CET6666666666666666-0CEST,..." overflowed an int while parsing the offset.

#include <gtest/gtest.h>

#include "scheduler/triggers/time_zone.hpp"

namespace sluice::scheduler::triggers {
namespace {

TEST(TimeZoneLimitsTest, OverlongNumbersInAPosixRuleAreRefused) {
  EXPECT_FALSE(TimeZone::FromPosixRule("x", "CET6666666666666666-0CEST,M3..0,M10.0/1").ok());
  EXPECT_FALSE(TimeZone::FromPosixRule("x", "CET-1CEST,M3.5.0/99999999999,M10.5.0/3").ok());
  EXPECT_FALSE(TimeZone::FromPosixRule("x", "<+01>-200").ok());   // 200 hours
  EXPECT_FALSE(TimeZone::FromPosixRule("x", "<+01>-1:75").ok());  // 75 minutes
}

TEST(TimeZoneLimitsTest, RulesWithinTheLimitsStillParse) {
  EXPECT_TRUE(TimeZone::FromPosixRule("x", "<+0545>-5:45").ok());
  EXPECT_TRUE(TimeZone::FromPosixRule("x", "EST5EDT,M3.2.0/2:00:00,M11.1.0/2").ok());
  EXPECT_TRUE(TimeZone::FromPosixRule("x", "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1").ok());
  EXPECT_TRUE(TimeZone::FromPosixRule("x", "IST-2IDT,M3.4.4/26,M10.5.0").ok());  // 26:00 is valid
}

}  // namespace
}  // namespace sluice::scheduler::triggers
