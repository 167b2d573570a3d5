// The logical replication stream comes from a PostgreSQL server (or whatever answers on its port):
// any bytes must decode into a frame and a pgoutput message or be refused with a DataError, never
// read out of bounds. A decoded message must also be internally consistent (sizes within the input).

#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "connectors/postgres/pgoutput_decoder.hpp"

using namespace sluice;
using namespace sluice::postgres;

namespace {

size_t TupleBytes(const Tuple& tuple) {
  size_t n = 0;
  for (const auto& v : tuple) n += v.text.size();
  return n;
}

void CheckMessage(std::string_view bytes) {
  auto decoded = DecodePgOutput(bytes);
  if (!decoded.ok()) {
    if (decoded.status().code() != StatusCode::kDataError) std::abort();
    return;
  }
  (void)PgOutputMessageName(*decoded);
  // Values are copied out of the input: together they can never be larger than it.
  size_t values = 0;
  if (const auto* insert = std::get_if<InsertMessage>(&*decoded)) values = TupleBytes(insert->new_tuple);
  if (const auto* update = std::get_if<UpdateMessage>(&*decoded)) {
    values = TupleBytes(update->old_tuple) + TupleBytes(update->new_tuple);
  }
  if (const auto* del = std::get_if<DeleteMessage>(&*decoded)) values = TupleBytes(del->old_tuple);
  if (const auto* relation = std::get_if<RelationMessage>(&*decoded)) {
    if (relation->columns.size() > static_cast<size_t>(kMaxTupleColumns)) std::abort();
  }
  if (values > bytes.size()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // As a whole CopyData frame of the replication stream (XLogData carrying a message, keepalive)…
  auto frame = DecodeReplicationFrame(bytes);
  if (frame.ok()) {
    if (const auto* x = std::get_if<XLogData>(&*frame)) {
      if (x->payload.size() > size) std::abort();
      CheckMessage(x->payload);
    }
  } else if (frame.status().code() != StatusCode::kDataError) {
    std::abort();
  }
  // …and as a bare pgoutput message.
  CheckMessage(bytes);
  // LSN text as the server prints it.
  auto lsn = ParseLsn(bytes);
  if (lsn.ok() && ParseLsn(FormatLsn(*lsn)).ValueOr(Lsn{~0ull}) != *lsn) std::abort();
  return 0;
}
