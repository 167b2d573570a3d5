#include "pipeline/cdc_status.hpp"

#include <gtest/gtest.h>

namespace sluice::pipeline {
namespace {

CdcJobStatus Healthy() {
  CdcJobStatus s;
  s.pipeline = "shop_cdc";
  s.job = "shop_cdc";
  connectors::SlotHealth h;
  h.slot = "sluice_shop";
  h.exists = true;
  h.active = true;
  h.lag_bytes = 4096;
  h.lag_seconds = 1.5;
  h.wal_status = "reserved";
  s.health = h;
  return s;
}

TEST(CdcMetricsTest, GaugesPerPipelineJobAndSlot) {
  CdcJobStatus limited = Healthy();
  limited.pipeline = "other \"one\"";
  limited.health->safe_wal_size = 1 << 20;
  limited.health->lag_seconds.reset();  // the copy is under way
  CdcJobStatus unreachable;
  unreachable.pipeline = "down";
  unreachable.job = "down";
  unreachable.error = "connection refused";
  std::string text = CdcMetricsText({Healthy(), limited, unreachable});
  const std::string labels = "{pipeline=\"shop_cdc\",job=\"shop_cdc\",slot=\"sluice_shop\"}";
  EXPECT_NE(text.find("# TYPE sluice_cdc_lag_seconds gauge\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_cdc_up" + labels + " 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_cdc_slot_active" + labels + " 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_cdc_lag_bytes" + labels + " 4096\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_cdc_lag_seconds" + labels + " 1.5\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("sluice_cdc_safe_wal_bytes" + labels), std::string::npos) << text;  // unlimited
  // Label values are escaped; an unknown lag is absent, a limit is exported.
  const std::string other = "{pipeline=\"other \\\"one\\\"\",job=\"shop_cdc\",slot=\"sluice_shop\"}";
  EXPECT_NE(text.find("sluice_cdc_safe_wal_bytes" + other + " 1048576\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("sluice_cdc_lag_seconds" + other), std::string::npos) << text;
  // A server that did not answer is down, with no lag figures.
  EXPECT_NE(text.find("sluice_cdc_up{pipeline=\"down\",job=\"down\",slot=\"\"} 0\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("sluice_cdc_lag_bytes{pipeline=\"down\""), std::string::npos) << text;
  EXPECT_EQ(CdcMetricsText({}), "");
}

}  // namespace
}  // namespace sluice::pipeline
