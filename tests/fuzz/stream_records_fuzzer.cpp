// The record parser of event streams sees request bodies from anyone holding a stream's token: one JSON
// object, a JSON array or NDJSON, optionally gzip'd, and Firehose JSON bodies with base64 records. Any bytes
// must split into accepted and refused records without crashing, and every accepted record must be one line
// of JSON holding an object whose field names a table can hold, within the limits.

#include <zlib.h>

#include <cstdint>
#include <string>

#include "common/json_limits.hpp"
#include "fuzz_input.hpp"
#include "server/firehose_protocol.hpp"
#include "streams/record_batch.hpp"
#include "streams/record_shape.hpp"

using namespace sluice;

namespace {

constexpr size_t kMaxBody = 1 << 20;

/// gzip'd input inflated up to `limit` bytes, as the server reads a Content-Encoding: gzip body.
bool Gunzip(std::string_view in, size_t limit, std::string* out) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return false;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  char buffer[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof(buffer);
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out->append(buffer, sizeof(buffer) - z.avail_out);
    if (out->size() > limit) break;
    if (z.avail_in == 0 && rc == Z_OK && z.avail_out != 0) break;
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END && out->size() <= limit;
}

void CheckAccepted(const std::string& record, const streams::BatchLimits& limits) {
  if (record.size() > limits.max_record_size) __builtin_trap();
  if (record.find('\n') != std::string::npos) __builtin_trap();
  auto value = ParseJsonBounded(record, "record");
  if (!value.ok() || !value->is_object()) __builtin_trap();
  if (!streams::CheckFieldNames(record).empty()) __builtin_trap();
}

void CheckBatch(const streams::ParsedBody& parsed, const streams::BatchLimits& limits) {
  const auto& batch = parsed.batch;
  if (batch.records.size() + batch.failed.size() > batch.total) __builtin_trap();
  if (!parsed.too_many && batch.records.size() + batch.failed.size() != batch.total) __builtin_trap();
  size_t previous = 0;
  for (size_t i = 0; i < batch.failed.size(); ++i) {
    if (batch.failed[i].first >= batch.total || (i > 0 && batch.failed[i].first <= previous)) __builtin_trap();
    if (batch.failed[i].second.empty()) __builtin_trap();
    previous = batch.failed[i].first;
  }
  for (const auto& r : batch.records) CheckAccepted(r, limits);
  if (!nlohmann::json::accept(streams::BatchAnswerJson(batch))) __builtin_trap();
}

void FirehoseBody(std::string_view body, const std::string& list, const std::string& field,
                  const streams::BatchLimits& limits) {
  auto document = ParseJsonOrDiscarded(body);
  if (document.is_discarded() || !document.is_object()) return;
  if (document.contains(list) && document[list].is_array()) {
    for (const auto& element : document[list]) {
      auto record = server::DecodeFirehoseRecord(element, field, limits);
      if (record.ok()) CheckAccepted(*record, limits);
    }
  }
  if (document.contains("Record")) {
    auto record = server::DecodeFirehoseRecord(document["Record"], "Data", limits);
    if (record.ok()) CheckAccepted(*record, limits);
  }
}

}  // namespace

// Input: one byte of mode, one of limits, then the body.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzInput in(data, size);
  uint8_t mode = in.Byte();
  uint8_t limit = in.Byte();
  streams::BatchLimits limits{static_cast<uint64_t>(16 + (limit & 0x0f) * 4096), 1 + (limit >> 4) * 40};
  std::string body(in.Rest());
  if (body.size() > kMaxBody) return 0;
  switch (mode % 5) {
    case 2: {  // gzip'd NDJSON or JSON
      std::string inflated;
      if (!Gunzip(body, kMaxBody, &inflated)) return 0;
      body = std::move(inflated);
      [[fallthrough]];
    }
    case 0:
    case 1: {
      auto format = mode % 5 == 1 ? streams::BodyFormat::kNdjson : streams::BodyFormat::kJson;
      auto parsed = streams::ParseRecordBody(body, format, limits);
      if (parsed.ok()) CheckBatch(*parsed, limits);
      break;
    }
    case 3: FirehoseBody(body, "Records", "Data", limits); break;
    default: FirehoseBody(body, "records", "data", limits); break;
  }
  return 0;
}
