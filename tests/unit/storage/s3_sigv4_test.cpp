// Our SigV4 signer against botocore's S3SigV4Auth, request by request: both sign the same inputs at
// the same instant and must produce the same Authorization header.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "common/strings.hpp"
#include "storage/s3/sigv4.hpp"
#include "unit/storage/s3_test_support.hpp"

namespace sluice::storage::s3 {
namespace {

using storage::testing::JsonString;

struct Case {
  std::string label;
  std::string scheme = "http";
  SignableRequest request;
  std::string body;
  bool unsigned_payload = false;
  std::string token;
};

TimePoint FixedTime() { return std::chrono::system_clock::from_time_t(1795000000); }  // 2026-11-18T...

std::string TimeText(TimePoint t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y%m%dT%H%M%SZ", &tm);
  return buffer;
}

std::vector<Case> Cases() {
  auto make = [](std::string label, std::string method, std::string host, std::string key,
                 std::vector<std::pair<std::string, std::string>> query, std::string body) {
    Case c;
    c.label = std::move(label);
    c.request.method = std::move(method);
    c.request.host = std::move(host);
    c.request.encoded_path = "/lake/" + UriEncode(key, true);
    c.request.query = std::move(query);
    c.body = std::move(body);
    return c;
  };
  std::vector<Case> cases;
  cases.push_back(make("get", "GET", "127.0.0.1:9000", "raw/files/orders/part-1.parquet", {}, ""));
  cases.push_back(
      make("get_unusual_key", "GET", "127.0.0.1:9000", "country=DE/city=K%C3%B6ln/ünï cødé+x,y(1)*~!.csv", {}, ""));
  Case ranged = make("get_range", "GET", "127.0.0.1:9000", "big/object.bin", {}, "");
  ranged.request.headers = {{"range", "bytes=100-1048675"}, {"if-match", "\"abc123\""}};
  cases.push_back(ranged);
  cases.push_back(make("put", "PUT", "127.0.0.1:9000", "a/b.txt", {}, "hello, world\n"));
  Case token = make("put_session_token", "PUT", "s3.eu-central-1.amazonaws.com", "a/b.txt", {}, "x");
  token.token = "FQoGZXIvYXdzEBYaD+session/token==";
  cases.push_back(token);
  Case unsigned_put = make("put_unsigned_payload_https", "PUT", "lake.s3.amazonaws.com", "z/y", {}, "body");
  unsigned_put.scheme = "https";
  unsigned_put.unsigned_payload = true;
  unsigned_put.request.encoded_path = "/z/y";  // virtual-hosted: the bucket is in the host
  cases.push_back(unsigned_put);
  cases.push_back(make("multipart_initiate", "POST", "127.0.0.1:9000", "big/file.parquet", {{"uploads", ""}}, ""));
  cases.push_back(make("multipart_upload_part", "PUT", "127.0.0.1:9000", "big/file.parquet",
                       {{"partNumber", "12"}, {"uploadId", "2~abc/DEF+ghi=="}}, std::string(5000, 'p')));
  cases.push_back(make("multipart_complete", "POST", "127.0.0.1:9000", "big/file.parquet",
                       {{"uploadId", "2~abc/DEF+ghi=="}},
                       "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag></Part>"
                       "</CompleteMultipartUpload>"));
  cases.push_back(
      make("multipart_abort", "DELETE", "127.0.0.1:9000", "big/file.parquet", {{"uploadId", "2~abc/DEF+ghi=="}}, ""));
  Case list = make("list_with_query", "GET", "127.0.0.1:9000", "", {}, "");
  list.request.encoded_path = "/lake";
  list.request.query = {{"prefix", "raw/files/or ders=é/"},
                        {"list-type", "2"},
                        {"max-keys", "1000"},
                        {"continuation-token", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="}};
  cases.push_back(list);
  cases.push_back(make("delete", "DELETE", "127.0.0.1:9000", "d/x/1", {}, ""));
  std::string delete_body = "<Delete><Quiet>true</Quiet><Object><Key>m/1</Key></Object></Delete>";
  Case batch = make("delete_objects", "POST", "127.0.0.1:9000", "", {{"delete", ""}}, delete_body);
  batch.request.encoded_path = "/lake";
  batch.request.headers = {{"content-md5", Md5Base64(delete_body)}};
  cases.push_back(batch);
  cases.push_back(make("head_default_port", "HEAD", "127.0.0.1", "s/obj", {}, ""));
  return cases;
}

TEST(S3SigV4, MatchesBotocoreRequestByRequest) {
  const Credentials base{"AKIAIOSFODNN7EXAMPLE", Secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), Secret()};
  auto cases = Cases();
  std::string json = "[";
  std::vector<std::string> ours;
  for (auto& c : cases) {
    c.request.payload_hash = c.unsigned_payload ? std::string(kUnsignedPayload) : Sha256Hex(c.body);
    Credentials credentials = base;
    credentials.session_token = Secret(c.token);
    auto added = SignV4(c.request, credentials, "us-east-1", FixedTime());
    std::string authorization;
    for (const auto& [name, value] : added) {
      if (name == "Authorization") authorization = value;
    }
    ours.push_back(authorization);

    std::string url = c.scheme + "://" + c.request.host + c.request.encoded_path;
    if (!c.request.query.empty()) url += "?" + EncodeQuery(c.request.query);
    std::string headers = "{";
    for (const auto& [name, value] : c.request.headers) {
      if (headers.size() > 1) headers += ",";
      headers += JsonString(name) + ":" + JsonString(value);
    }
    headers += "}";
    if (json.size() > 1) json += ",";
    json += "{\"method\":" + JsonString(c.request.method) + ",\"url\":" + JsonString(url) + ",\"headers\":" + headers +
            ",\"body\":" + JsonString(c.body) + ",\"unsigned\":" + (c.unsigned_payload ? "true" : "false") +
            ",\"time\":" + JsonString(TimeText(FixedTime())) +
            ",\"region\":\"us-east-1\",\"access_key\":" + JsonString(base.access_key_id) +
            ",\"secret_key\":" + JsonString(base.secret_access_key.Reveal()) + ",\"token\":" + JsonString(c.token) +
            "}";
  }
  json += "]";
  auto input = std::filesystem::temp_directory_path() / ("sluice-sigv4-" + std::to_string(getpid()) + ".json");
  std::ofstream(input) << json;
  std::string output;
  std::string script = (storage::testing::SourceDir() / "tests" / "unit" / "storage" / "botocore_sign.py").string();
  int rc = storage::testing::RunCommand(storage::testing::Python() + " " + storage::testing::ShellQuote(script) +
                                            " < " + storage::testing::ShellQuote(input.string()),
                                        &output);
  std::filesystem::remove(input);
  ASSERT_EQ(rc, 0) << output;
  auto lines = Split(output, '\n');
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  ASSERT_EQ(lines.size(), cases.size()) << output;
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(ours[i], lines[i]) << cases[i].label << "\ncanonical request (ours):\n"
                                 << CanonicalRequest(cases[i].request, {});
  }
}

TEST(S3SigV4, UriEncodeKeepsOnlyUnreservedAndOptionallySlash) {
  EXPECT_EQ(UriEncode("a b/c+d=é~._-", true), "a%20b/c%2Bd%3D%C3%A9~._-");
  EXPECT_EQ(UriEncode("a/b", false), "a%2Fb");
}

TEST(S3SigV4, SecretNeverInTheHeaders) {
  Credentials credentials{"AKID", Secret("very-secret-key-value"), Secret()};
  SignableRequest request{"GET", "h", "/b/k", {}, {}, std::string(kEmptyPayloadHash)};
  for (const auto& [name, value] : SignV4(request, credentials, "us-east-1", FixedTime())) {
    EXPECT_THAT(value, ::testing::Not(::testing::HasSubstr("very-secret-key-value"))) << name;
  }
}

}  // namespace
}  // namespace sluice::storage::s3
