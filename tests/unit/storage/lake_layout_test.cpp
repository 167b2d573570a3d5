#include "storage/lake_layout.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace sluice::storage {
namespace {

using Partitions = std::vector<std::pair<std::string, std::string>>;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

TEST(LakeLayoutTest, PartitionSegmentEscapesLikeDuckDb) {
  EXPECT_EQ(PartitionSegment("country", "DE"), "country=DE");
  EXPECT_EQ(PartitionSegment("path", "x/y"), "path=x%2Fy");
  EXPECT_EQ(PartitionSegment("eq", "a=b"), "eq=a%3Db");
  EXPECT_EQ(PartitionSegment("ts", "2026-11-04 03:00:00"), "ts=2026-11-04%2003%3A00%3A00");
  EXPECT_EQ(PartitionSegment("p", "100%"), "p=100%25");
  EXPECT_EQ(PartitionSegment("city", "Köln"), "city=K%C3%B6ln");
  EXPECT_EQ(PartitionSegment("keep", "a-b_c.d~e"), "keep=a-b_c.d~e");
  EXPECT_EQ(PartitionSegment("odd col", "v"), "odd%20col=v");
}

TEST(LakeLayoutTest, EmptyValueIsTheHiveDefaultPartition) {
  EXPECT_EQ(PartitionSegment("country", ""), "country=__HIVE_DEFAULT_PARTITION__");
  // The literal string must not turn into NULL when read back.
  EXPECT_EQ(PartitionSegment("country", "__HIVE_DEFAULT_PARTITION__"), "country=%5F_HIVE_DEFAULT_PARTITION__");
  EXPECT_THAT(ParsePartitionPath("country=__HIVE_DEFAULT_PARTITION__/x=%5F_HIVE_DEFAULT_PARTITION__"),
              ElementsAre(Pair("country", ""), Pair("x", "__HIVE_DEFAULT_PARTITION__")));
}

TEST(LakeLayoutTest, PartitionPathJoinsSegments) {
  EXPECT_EQ(PartitionPath({{"a", "1"}, {"b", "x/y"}}), "a=1/b=x%2Fy");
  EXPECT_EQ(PartitionPath({}), "");
}

TEST(LakeLayoutTest, ParsePartitionPathReadsKeysBack) {
  EXPECT_THAT(ParsePartitionPath("a=1/b=x%2Fy/part-1.parquet"), ElementsAre(Pair("a", "1"), Pair("b", "x/y")));
  EXPECT_THAT(ParsePartitionPath("raw/files/orders/original/full/year=2026/month=01/part-r-00001.parquet"),
              ElementsAre(Pair("year", "2026"), Pair("month", "01")));
  EXPECT_THAT(ParsePartitionPath("no/partitions/here.parquet"), IsEmpty());
  EXPECT_THAT(ParsePartitionPath(""), IsEmpty());
  EXPECT_THAT(ParsePartitionPath("=orphan/a=/b=c=d"), ElementsAre(Pair("a", ""), Pair("b", "c=d")));
  // Lower-case hex (other writers) and a stray '%' are read leniently.
  EXPECT_THAT(ParsePartitionPath("k=%c3%b6/p=50%/q=%zz"),
              ElementsAre(Pair("k", "ö"), Pair("p", "50%"), Pair("q", "%zz")));
}

TEST(LakeLayoutTest, EscapingRoundTripsEveryByte) {
  std::vector<std::string> values = {"plain",
                                     "x/y",
                                     "a=b",
                                     "%41",
                                     "%",
                                     "..",
                                     ".",
                                     "sp ace",
                                     "tab\there",
                                     "new\nline",
                                     "ünïcødé 🦆",
                                     "__HIVE_DEFAULT_PARTITION__",
                                     "_",
                                     "+plus+",
                                     "?:&#[]"};
  std::string all_bytes;
  for (int c = 1; c < 256; ++c) all_bytes.push_back(static_cast<char>(c));
  values.push_back(all_bytes);
  for (const auto& value : values) {
    SCOPED_TRACE(value);
    std::string segment = PartitionSegment("col/=", value);
    EXPECT_EQ(segment.find('/'), std::string::npos);
    EXPECT_EQ(std::count(segment.begin(), segment.end(), '='), 1);
    std::string path = PartitionPath({{"first", value}, {"col/=", value}}) + "/part-x.parquet";
    EXPECT_THAT(ParsePartitionPath(path), ElementsAre(Pair("first", value), Pair("col/=", value)));
  }
  EXPECT_EQ(HiveUnescape(HiveEscape(all_bytes)), all_bytes);
}

TEST(LakeLayoutTest, TableLayoutRootsAndPrefixes) {
  TableLayout raw{"raw", "registry", "compounds"};
  EXPECT_EQ(raw.Root(), "raw/registry/compounds");
  EXPECT_EQ(raw.DataPrefix("original", "incremental"), "raw/registry/compounds/original/incremental");
  TableLayout silver{"silver", "", "indicators"};
  EXPECT_EQ(silver.Root(), "silver/indicators");
  EXPECT_EQ(silver.DataPrefix("", ""), "silver/indicators");
  EXPECT_EQ(silver.DataPrefix("current", ""), "silver/indicators/current");
}

TEST(LakeLayoutTest, DataFileKeys) {
  EXPECT_EQ(DataFileKey("silver/indicators", {{"country", "DE"}}, "20261123T105600Z-3f9a1c", 7),
            "silver/indicators/country=DE/part-20261123T105600Z-3f9a1c-00007.parquet");
  EXPECT_EQ(DataFileKey("silver/indicators", {}, "r1", 0), "silver/indicators/part-r1-00000.parquet");
  EXPECT_EQ(DataFileKey("silver/indicators/", {}, "r1", 123456, "csv"), "silver/indicators/part-r1-123456.csv");
  EXPECT_EQ(DataFileKey("", {{"a", "1"}, {"b", "x/y"}}, "r1", 2), "a=1/b=x%2Fy/part-r1-00002.parquet");
  EXPECT_EQ(DataFileKey("", {}, "r1", 2, ""), "part-r1-00002");
}

}  // namespace
}  // namespace sluice::storage
