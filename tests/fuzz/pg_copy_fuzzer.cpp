// The binary COPY stream comes from a PostgreSQL server (or whatever answers on its port): any
// bytes must decode into rows or be refused with a DataError, never read out of bounds.

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "connectors/postgres/pg_copy_reader.hpp"
#include "connectors/postgres/pg_types.hpp"
#include "engine/appender.hpp"
#include "engine/engine.hpp"
#include "fuzz_input.hpp"

using namespace sluice;
using namespace sluice::postgres;
using engine::ColumnKind;

namespace {

struct WireKind {
  WireType wire;
  ColumnKind kind;
};

// The scalar mappings of pg_types.cpp's ResolveScalar (numeric is handled apart).
constexpr WireKind kScalars[] = {
    {WireType::kBool, ColumnKind::kBool},
    {WireType::kInt2, ColumnKind::kInt16},
    {WireType::kInt4, ColumnKind::kInt32},
    {WireType::kInt8, ColumnKind::kInt64},
    {WireType::kOid, ColumnKind::kInt64},
    {WireType::kFloat4, ColumnKind::kFloat},
    {WireType::kFloat8, ColumnKind::kDouble},
    {WireType::kText, ColumnKind::kVarchar},
    {WireType::kJson, ColumnKind::kJson},
    {WireType::kJsonb, ColumnKind::kJson},
    {WireType::kBytea, ColumnKind::kBlob},
    {WireType::kDate, ColumnKind::kDate},
    {WireType::kTime, ColumnKind::kTime},
    {WireType::kTimestamp, ColumnKind::kTimestamp},
    {WireType::kTimestampTz, ColumnKind::kTimestampTz},
    {WireType::kInterval, ColumnKind::kInterval},
    {WireType::kUuid, ColumnKind::kUuid},
};
constexpr size_t kScalarCount = sizeof(kScalars) / sizeof(kScalars[0]);

engine::AppendColumn ScalarTarget(fuzz::FuzzInput& in, WireType* wire) {
  uint8_t pick = in.Byte() % (kScalarCount + 2);
  if (pick >= kScalarCount) {  // numeric: as text (no typmod) or as a DECIMAL(width, scale)
    *wire = WireType::kNumeric;
    if (pick == kScalarCount) return {"", ColumnKind::kVarchar};
    int width = 1 + in.Byte() % 38;
    return {"", ColumnKind::kDecimal, width, in.Byte() % (width + 1)};
  }
  *wire = kScalars[pick].wire;
  return {"", kScalars[pick].kind};
}

engine::Connection& Duck() {
  static std::unique_ptr<engine::Database> db;
  static std::unique_ptr<engine::Connection> connection;
  if (!connection) {
    engine::DatabaseOptions options;
    options.threads = 1;
    auto opened = engine::Database::Open(options);
    if (!opened.ok()) std::abort();
    db = std::move(*opened);
    auto connected = db->Connect();
    if (!connected.ok()) std::abort();
    connection = std::move(*connected);
  }
  return *connection;
}

}  // namespace

// Input: column count, per column a type choice (bit 7: an array of it), a last-value column
// choice, whether to prepend a valid header, then messages as (length byte, bytes).
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzInput in(data, size);
  std::vector<PgColumn> columns(1 + in.Byte() % 4);
  for (size_t i = 0; i < columns.size(); ++i) {
    PgColumn& c = columns[i];
    c.name = "c" + std::to_string(i);
    c.type_name = "fuzz";
    bool array = (in.Byte() & 0x80) != 0;
    WireType wire;
    engine::AppendColumn target = ScalarTarget(in, &wire);
    if (array) {
      c.wire = WireType::kArray;
      c.element_wire = wire;
      c.target = {c.name, ColumnKind::kList};
      c.target.element.push_back(target);
    } else {
      c.wire = wire;
      c.target = target;
      c.target.name = c.name;
    }
  }
  int last_value_index = -1;
  uint8_t last_pick = in.Byte();
  if (last_pick < columns.size()) {
    WireType w = columns[last_pick].wire;
    if (w == WireType::kInt2 || w == WireType::kInt4 || w == WireType::kInt8) last_value_index = last_pick;
  }
  bool with_header = (in.Byte() & 1) != 0;

  engine::Connection& duck = Duck();
  std::vector<engine::AppendColumn> targets = TargetColumns(columns);
  if (!duck.Execute("DROP TABLE IF EXISTS fuzz_rows; " + engine::CreateTableSql("fuzz_rows", targets, true)).ok()) {
    return 0;
  }
  auto appender = engine::Appender::Make(duck, "fuzz_rows", targets);
  if (!appender.ok()) std::abort();
  CopyDecoder decoder(columns, "fuzz:5432", last_value_index);
  bool first = true;
  while (!in.empty()) {
    std::string message;
    if (first && with_header) {
      message.assign("PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", 19);
    }
    first = false;
    message += in.Take(in.Byte());
    bool trailer = false;
    Status st =
        decoder.DecodeMessage(**appender, reinterpret_cast<const uint8_t*>(message.data()), message.size(), &trailer);
    if (!st.ok()) break;  // refused: the reader reports it and stops the COPY
    if (trailer) break;
  }
  (void)(*appender)->Close();
  return 0;
}
