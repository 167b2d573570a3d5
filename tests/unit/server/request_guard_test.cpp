#include "server/request_guard.hpp"

#include <gtest/gtest.h>

namespace sluice::server {
namespace {

TEST(RequestGuardTest, HostMustNameTheListenAddress) {
  EXPECT_TRUE(HostAllowed("127.0.0.1:8080", "127.0.0.1", 8080));
  EXPECT_TRUE(HostAllowed("localhost:8080", "127.0.0.1", 8080));
  EXPECT_TRUE(HostAllowed("LOCALHOST:8080", "127.0.0.1", 8080));
  EXPECT_TRUE(HostAllowed("[::1]:8080", "::1", 8080));
  EXPECT_TRUE(HostAllowed("localhost", "127.0.0.1", 80));
  EXPECT_FALSE(HostAllowed("localhost", "127.0.0.1", 8080));
  EXPECT_FALSE(HostAllowed("127.0.0.1:8081", "127.0.0.1", 8080));
  EXPECT_FALSE(HostAllowed("evil.example:8080", "127.0.0.1", 8080));
  EXPECT_FALSE(HostAllowed("", "127.0.0.1", 8080));
  EXPECT_FALSE(HostAllowed("127.0.0.1:80x", "127.0.0.1", 8080));
  EXPECT_TRUE(HostAllowed("sluice.internal:9000", "sluice.internal", 9000));
  EXPECT_FALSE(HostAllowed("localhost:9000", "10.0.0.5", 9000));  // not loopback: only its own name
  EXPECT_TRUE(HostAllowed("anything:9000", "0.0.0.0", 9000));
}

TEST(RequestGuardTest, OriginMustBeTheSameOrigin) {
  EXPECT_TRUE(SameOrigin("http://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_FALSE(SameOrigin("http://evil.example", "127.0.0.1:8080"));
  EXPECT_FALSE(SameOrigin("null", "127.0.0.1:8080"));
  EXPECT_FALSE(SameOrigin("https://127.0.0.1:8080", "127.0.0.1:8080"));
}

TEST(RequestGuardTest, JsonContentType) {
  EXPECT_TRUE(IsJsonContentType("application/json"));
  EXPECT_TRUE(IsJsonContentType("Application/JSON; charset=utf-8"));
  EXPECT_FALSE(IsJsonContentType("text/plain"));
  EXPECT_FALSE(IsJsonContentType("application/x-www-form-urlencoded"));
  EXPECT_FALSE(IsJsonContentType(""));
}

}  // namespace
}  // namespace sluice::server
