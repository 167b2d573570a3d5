#include "config/stream.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace sluice::config {
namespace {

using testing::FakeEnv;
using ::testing::HasSubstr;
using testing::TempDir;

// The example of ../shared/CONFIG.md, "Event ingest over HTTP", exactly as written.
constexpr const char* kStreamsYaml = R"yaml(project: web
streams:
  web_events:
    token: ${env:WEB_EVENTS_TOKEN}    # bearer token of this stream's producers (server.token also works)
    target: { zone: raw, table: web_events }
    buffer: { max_bytes: 64MB, max_age: 60s }   # flush to Parquet at whichever comes first
    partition_by: [event_date]        # optional; a column of the events or a derived one:
    columns: { event_date: "CAST(to_timestamp(ts / 1000) AS DATE)" }
    aws_access_keys:                  # optional: AWS SDK Firehose producers (SigV4-signed PutRecord/PutRecordBatch)
      - id: AKIAWEBEVENTS
        secret: ${env:WEB_EVENTS_AWS_SECRET}
environments:
  dev:
    streams:
      web_events:
        buffer: { max_age: 5s }
)yaml";

LoadOptions Options(std::string env = "") {
  LoadOptions options;
  options.env = std::move(env);
  options.redactor = std::make_shared<Redactor>();
  options.getenv = FakeEnv({{"WEB_EVENTS_TOKEN", "tok-123456"}, {"WEB_EVENTS_AWS_SECRET", "aws-secret-987"}});
  return options;
}

TEST(StreamConfigTest, TheContractExampleLoadsAsWritten) {
  TempDir dir;
  dir.Write("sluice.yaml", kStreamsYaml);
  auto loaded = LoadProject(dir.path(), Options());
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  auto streams = ProjectStreams(*loaded);
  ASSERT_EQ(streams.size(), 1u);
  const StreamConfig& s = streams[0];
  EXPECT_EQ(s.name, "web_events");
  EXPECT_EQ(s.token.Reveal(), "tok-123456");
  EXPECT_EQ(s.zone, "raw");
  EXPECT_EQ(s.table, "web_events");
  EXPECT_EQ(s.schema_evolution, "quarantine");
  EXPECT_EQ(s.max_age, std::chrono::seconds(60));
  EXPECT_GE(s.max_bytes, 64000000u);
  EXPECT_EQ(s.partition_by, (std::vector<std::string>{"event_date"}));
  ASSERT_EQ(s.columns.size(), 1u);
  EXPECT_EQ(s.columns[0].second, "CAST(to_timestamp(ts / 1000) AS DATE)");
  ASSERT_EQ(s.aws_access_keys.size(), 1u);
  EXPECT_EQ(s.aws_access_keys[0].id, "AKIAWEBEVENTS");
  EXPECT_EQ(s.aws_access_keys[0].secret.Reveal(), "aws-secret-987");
  EXPECT_EQ(s.max_record_size, 1u << 20);
  EXPECT_EQ(s.max_request_bytes, 4u << 20);
  EXPECT_EQ(s.max_request_records, 500);
}

TEST(StreamConfigTest, EnvironmentsOverlayStreams) {
  TempDir dir;
  dir.Write("sluice.yaml", kStreamsYaml);
  auto loaded = LoadProject(dir.path(), Options("dev"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  auto streams = ProjectStreams(*loaded);
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_EQ(streams[0].max_age, std::chrono::seconds(5));
  EXPECT_EQ(streams[0].table, "web_events");
}

TEST(StreamConfigTest, MistakesNameTheKey) {
  TempDir dir;
  dir.Write("sluice.yaml", R"(streams:
  a:
    token: written-into-the-file
    target: { zone: bronze }
    bufer: { max_age: 1s }
    max_request_records: 0
    columns: { _Arrived_At: "1 + 1" }
)");
  auto loaded = LoadProject(dir.path(), Options());
  ASSERT_FALSE(loaded.ok());
  std::string message = loaded.status().message();
  EXPECT_THAT(message, HasSubstr("token"));
  EXPECT_THAT(message, HasSubstr("table"));
  EXPECT_THAT(message, HasSubstr("bufer"));
  EXPECT_THAT(message, HasSubstr("buffer"));  // the nearest key
  EXPECT_THAT(message, HasSubstr("streams.a.target.zone 'bronze'"));
  EXPECT_THAT(message, HasSubstr("streams.a.max_request_records"));
  EXPECT_THAT(message, HasSubstr("streams.a.columns._Arrived_At: sluice sets _arrived_at"));
  EXPECT_THAT(message, ::testing::Not(HasSubstr("written-into-the-file")));
}

}  // namespace
}  // namespace sluice::config
