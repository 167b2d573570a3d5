#include <gtest/gtest.h>

#include <map>

#include "server/firehose_protocol.hpp"
#include "storage/s3/sigv4.hpp"

namespace sluice::server {
namespace {

TEST(FirehoseProtocolTest, DecodesBase64) {
  EXPECT_EQ(*DecodeBase64("eyJhIjoxfQ=="), R"({"a":1})");
  EXPECT_EQ(*DecodeBase64("eyJhIjoxfQ"), R"({"a":1})");
  EXPECT_EQ(*DecodeBase64(""), "");
  EXPECT_FALSE(DecodeBase64("eyJh!joxfQ==").ok());
  EXPECT_FALSE(DecodeBase64("e").ok());
}

/// A request signed by our own S3 signer (checked against botocore elsewhere), verified back.
struct Signed {
  std::map<std::string, std::string> headers;
  std::string body = R"({"DeliveryStreamName":"web_events","Records":[]})";
};

Signed Sign(const std::string& secret, TimePoint at) {
  Signed out;
  storage::s3::SignableRequest request;
  request.method = "POST";
  request.host = "127.0.0.1:8080";
  request.encoded_path = "/firehose";
  request.headers = {{"host", "127.0.0.1:8080"},
                     {"x-amz-target", "Firehose_20150804.PutRecordBatch"},
                     {"content-type", "application/x-amz-json-1.1"}};
  request.payload_hash = storage::s3::Sha256Hex(out.body);
  storage::s3::Credentials credentials{"AKIATEST", Secret(secret), Secret()};
  for (const auto& [name, value] : request.headers) out.headers[name] = value;
  for (const auto& [name, value] : storage::s3::SignV4(request, credentials, "eu-west-1", at)) {
    std::string lower;
    for (char c : name) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    out.headers[lower] = value;
  }
  return out;
}

TEST(FirehoseProtocolTest, VerifiesSignaturesAndRefusesWrongOnes) {
  TimePoint at = *ParseTimestampUtc("2026-12-05T10:00:00Z");
  Signed request = Sign("right-secret", at);
  auto authorization = ParseSigV4Authorization(request.headers["authorization"]);
  ASSERT_TRUE(authorization.ok()) << authorization.status().message();
  EXPECT_EQ(authorization->key_id, "AKIATEST");
  EXPECT_EQ(authorization->region, "eu-west-1");
  ReceivedRequest received{"POST", "/firehose", "",
                           [&](const std::string& name) {
                             auto found = request.headers.find(name);
                             return found == request.headers.end() ? std::string() : found->second;
                           },
                           request.body};
  // Our S3 signer signs for service s3; the check is the same algorithm for any service.
  EXPECT_TRUE(VerifySigV4(*authorization, received, Secret("right-secret"), "s3", at).ok());
  EXPECT_FALSE(VerifySigV4(*authorization, received, Secret("wrong-secret"), "s3", at).ok());
  EXPECT_FALSE(VerifySigV4(*authorization, received, Secret("right-secret"), "firehose", at).ok());
  // Replayed an hour later.
  EXPECT_FALSE(VerifySigV4(*authorization, received, Secret("right-secret"), "s3", at + std::chrono::hours(1)).ok());
  // A changed body.
  std::string other_body = R"({"DeliveryStreamName":"other","Records":[]})";
  received.body = other_body;
  EXPECT_FALSE(VerifySigV4(*authorization, received, Secret("right-secret"), "s3", at).ok());
}

TEST(FirehoseProtocolTest, RefusesMalformedAuthorization) {
  EXPECT_FALSE(ParseSigV4Authorization("Bearer x").ok());
  EXPECT_FALSE(ParseSigV4Authorization("AWS4-HMAC-SHA256 Credential=A/1/2, Signature=ab").ok());
}

}  // namespace
}  // namespace sluice::server
