#include "iceberg/avro.hpp"

#include <gtest/gtest.h>

#include "iceberg/manifest.hpp"

namespace sluice::iceberg {
namespace {

std::string Encoded(int64_t value) {
  AvroEncoder out;
  out.Long(value);
  return out.Take();
}

// Values from the Avro specification's table of zigzag encodings.
TEST(AvroEncoderTest, LongsAreZigzagVarints) {
  EXPECT_EQ(Encoded(0), std::string("\x00", 1));
  EXPECT_EQ(Encoded(-1), "\x01");
  EXPECT_EQ(Encoded(1), "\x02");
  EXPECT_EQ(Encoded(-2), "\x03");
  EXPECT_EQ(Encoded(2), "\x04");
  EXPECT_EQ(Encoded(-64), "\x7f");
  EXPECT_EQ(Encoded(64), "\x80\x01");
  EXPECT_EQ(Encoded(INT64_MIN), "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01");
}

TEST(AvroEncoderTest, StringsAndBytesCarryTheirLength) {
  AvroEncoder out;
  out.String("foo");
  out.Bytes(std::string("\x00\x01", 2));
  EXPECT_EQ(out.bytes(), std::string("\x06"
                                     "foo"
                                     "\x04\x00\x01",
                                     7));
}

/// Reads one zigzag varint at `*at`.
int64_t ReadLong(const std::string& bytes, size_t* at) {
  uint64_t value = 0;
  int shift = 0;
  while (true) {
    auto b = static_cast<unsigned char>(bytes.at((*at)++));
    value |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) break;
    shift += 7;
  }
  return static_cast<int64_t>(value >> 1) ^ -static_cast<int64_t>(value & 1);
}

std::string ReadBytes(const std::string& bytes, size_t* at) {
  int64_t n = ReadLong(bytes, at);
  std::string out = bytes.substr(*at, static_cast<size_t>(n));
  *at += static_cast<size_t>(n);
  return out;
}

TEST(AvroContainerTest, HeaderHoldsSchemaCodecAndMetadataThenOneBlock) {
  AvroEncoder records;
  records.Long(7);
  records.Long(8);
  std::string file = AvroContainerFile(R"({"type":"long"})", {{"format-version", "2"}}, 2, records.bytes(), "seed");
  ASSERT_EQ(file.substr(0, 4), std::string("Obj\x01", 4));
  size_t at = 4;
  int64_t entries = ReadLong(file, &at);
  std::map<std::string, std::string> meta;
  for (int64_t i = 0; i < entries; ++i) {
    std::string key = ReadBytes(file, &at);
    meta[key] = ReadBytes(file, &at);
  }
  EXPECT_EQ(ReadLong(file, &at), 0);
  EXPECT_EQ(meta["avro.schema"], R"({"type":"long"})");
  EXPECT_EQ(meta["avro.codec"], "null");
  EXPECT_EQ(meta["format-version"], "2");
  std::string sync = file.substr(at, 16);
  at += 16;
  EXPECT_EQ(ReadLong(file, &at), 2);  // records in the block
  int64_t size = ReadLong(file, &at);
  EXPECT_EQ(size, static_cast<int64_t>(records.bytes().size()));
  EXPECT_EQ(ReadLong(file, &at), 7);
  EXPECT_EQ(ReadLong(file, &at), 8);
  EXPECT_EQ(file.substr(at), sync);  // the block ends with the header's marker, and the file with it
}

TEST(ManifestTest, HeaderCarriesTheKeysIcebergReadersNeed) {
  ManifestHeader header;
  header.schema_json = R"({"type":"struct","schema-id":0,"fields":[]})";
  header.spec = {{"day", 1, 1000, "date"}};
  ManifestEntry entry;
  entry.file_path = "file:///lake/t/a.parquet";
  entry.record_count = 3;
  entry.partition = {PartitionValue{false, 19000}};
  std::string file = WriteManifest(header, {entry}, "m");
  for (const char* key : {"schema", "schema-id", "partition-spec", "partition-spec-id", "format-version", "content"}) {
    EXPECT_NE(file.find(key), std::string::npos) << key;
  }
  EXPECT_NE(file.find(R"("field-id":1000)"), std::string::npos);
  EXPECT_NE(file.find(R"("logicalType":"date")"), std::string::npos);
  EXPECT_NE(file.find("k126_v127"), std::string::npos);
}

TEST(ManifestTest, PartitionSummariesBoundTheValues) {
  std::vector<PartitionField> spec = {{"n", 1, 1000, "int"}};
  ManifestEntry a, b, c;
  a.partition = {PartitionValue{false, 5}};
  b.partition = {PartitionValue{false, -3}};
  c.partition = {PartitionValue{true}};
  auto summary = SummarizePartitions(spec, {a, b, c});
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_TRUE(summary[0].contains_null);
  EXPECT_EQ(*summary[0].lower_bound, std::string("\xfd\xff\xff\xff", 4));
  EXPECT_EQ(*summary[0].upper_bound, std::string("\x05\x00\x00\x00", 4));
}

}  // namespace
}  // namespace sluice::iceberg
