#include "connectors/sources/postgres/cdc_slot.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>

#include "common/strings.hpp"
#include "connectors/postgres/pg_replication.hpp"
#include "connectors/postgres/pgoutput_decoder.hpp"

namespace sluice::connectors::pgcdc {

using postgres::Lsn;

namespace {

std::string QuotedTable(const std::string& source) {
  auto dot = source.find('.');
  return postgres::QuoteIdent(source.substr(0, dot)) + "." + postgres::QuoteIdent(source.substr(dot + 1));
}

}  // namespace

Result<CdcState> CdcState::Parse(const std::string& json) {
  CdcState state;
  if (json.empty() || json == "{}") return state;
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Status::DataError("the stored cdc state is not a JSON object: {}", json);
  state.slot = j.value("slot", "");
  state.publication = j.value("publication", "");
  state.created_slot = j.value("created_slot", false);
  state.created_publication = j.value("created_publication", false);
  state.copied = j.value("copied", false);
  std::string lsn = j.value("lsn", "0/0");
  SLUICE_ASSIGN_OR_RETURN(auto parsed, postgres::ParseLsn(lsn));
  state.lsn = parsed.value;
  state.as_of_us = j.value("as_of_us", int64_t{0});
  return state;
}

std::string CdcState::ToJson() const {
  return nlohmann::json{{"slot", slot},
                        {"publication", publication},
                        {"created_slot", created_slot},
                        {"created_publication", created_publication},
                        {"copied", copied},
                        {"lsn", postgres::FormatLsn(Lsn{lsn})},
                        {"as_of_us", as_of_us}}
      .dump();
}

Result<SlotHealth> QuerySlotHealth(postgres::PgClient& sql, const CdcOptions& o, const CdcState& state) {
  SlotHealth h;
  h.slot = o.slot;
  h.publication = o.publication;
  if (state.lsn != 0) h.committed_lsn = postgres::FormatLsn(Lsn{state.lsn});
  h.as_of_us = state.copied ? state.as_of_us : 0;
  SLUICE_ASSIGN_OR_RETURN(
      auto rows,
      sql.QueryParams("SELECT plugin, active, active_pid::text AS active_pid, confirmed_flush_lsn::text AS confirmed, "
                      "pg_current_wal_lsn()::text AS current, "
                      "pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS lag, wal_status, "
                      "safe_wal_size, " +
                          std::string(kServerNowUs) +
                          " AS now_us, "
                          "pg_wal_lsn_diff(pg_current_wal_lsn(), $2::pg_lsn) > 0 AS behind "
                          "FROM pg_replication_slots WHERE slot_name = $1",
                      {o.slot, postgres::FormatLsn(Lsn{state.lsn})}));
  if (rows.rows.empty()) return h;
  if (state.copied && state.lsn != 0) {
    if (rows.Get(0, "behind") != "t") {
      h.lag_seconds = 0.0;
    } else if (state.as_of_us > 0) {
      int64_t now_us = std::strtoll(rows.Get(0, "now_us").c_str(), nullptr, 10);
      h.lag_seconds = static_cast<double>(std::max<int64_t>(0, now_us - state.as_of_us)) / 1e6;
    }
  }
  h.exists = true;
  h.plugin = rows.Get(0, "plugin");
  h.active = rows.Get(0, "active") == "t";
  h.active_pid = rows.Get(0, "active_pid");
  h.confirmed_flush_lsn = rows.Get(0, "confirmed");
  h.current_wal_lsn = rows.Get(0, "current");
  h.lag_bytes = std::strtoll(rows.Get(0, "lag").c_str(), nullptr, 10);
  h.wal_status = rows.Get(0, "wal_status");
  if (std::string safe = rows.Get(0, "safe_wal_size"); !safe.empty())
    h.safe_wal_size = std::strtoll(safe.c_str(), nullptr, 10);
  return h;
}

Status ReadTableKeys(postgres::PgClient& sql, CdcOptions* options, std::vector<std::string>* warnings) {
  const CdcOptions& o = *options;
  for (auto& t : options->tables) {
    auto dot = t.source.find('.');
    std::string schema = t.source.substr(0, dot), name = t.source.substr(dot + 1);
    SLUICE_ASSIGN_OR_RETURN(
        auto rows,
        sql.QueryParams(
            "SELECT c.relreplident::text AS identity, "
            "(SELECT string_agg(a.attname, ',' ORDER BY array_position(i.indkey::int2[], a.attnum)) FROM pg_index i "
            " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            " WHERE i.indrelid = c.oid AND i.indisprimary) AS pk, "
            "(SELECT string_agg(a.attname, ',' ORDER BY array_position(i.indkey::int2[], a.attnum)) FROM pg_index i "
            " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            " WHERE i.indrelid = c.oid AND i.indisreplident) AS ri "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 "
            "AND c.relkind IN ('r', 'p')",
            {schema, name}));
    if (rows.rows.empty()) {
      return Status::NotFound("{}: table {} of pipeline '{}' does not exist on {} (or is not a table)",
                              o.location.ToString(), t.source, o.pipeline, sql.endpoint());
    }
    std::string identity = rows.Get(0, "identity");
    std::string key = identity == "i" ? rows.Get(0, "ri") : rows.Get(0, "pk");
    t.key = key.empty() ? std::vector<std::string>{} : Split(key, ',');
    std::string warning;
    if (identity == "n") {
      warning = fmt::format(
          "table {} has REPLICA IDENTITY NOTHING: PostgreSQL refuses its UPDATEs and DELETEs while it "
          "is published; set REPLICA IDENTITY DEFAULT (with a primary key) or FULL",
          t.source);
    } else if (identity == "d" && t.key.empty()) {
      warning = fmt::format(
          "table {} has no primary key and REPLICA IDENTITY DEFAULT: PostgreSQL refuses its UPDATEs "
          "and DELETEs while it is published; add a primary key or ALTER TABLE {} REPLICA IDENTITY "
          "FULL",
          t.source, t.source);
    } else if (identity == "f" && t.key.empty()) {
      warning = fmt::format(
          "table {} has REPLICA IDENTITY FULL but no primary key: its change records have no key, "
          "so unchanged TOAST values cannot be filled from earlier rows and the current state cannot "
          "be rebuilt per key",
          t.source);
    }
    if (!warning.empty()) {
      spdlog::warn("pipeline '{}': {}", o.pipeline, warning);
      if (warnings != nullptr) warnings->push_back(warning);
    }
  }
  return Status::OK();
}

Status EnsurePublication(postgres::PgClient& sql, const CdcOptions& o, CdcState* state) {
  SLUICE_ASSIGN_OR_RETURN(auto exists,
                          sql.QueryParams("SELECT 1 FROM pg_publication WHERE pubname = $1", {o.publication}));
  std::vector<std::string> quoted;
  for (const auto& t : o.tables) quoted.push_back(QuotedTable(t.source));
  if (exists.rows.empty()) {
    SLUICE_TRY(sql.Execute(
        fmt::format("CREATE PUBLICATION {} FOR TABLE {}", postgres::QuoteIdent(o.publication), Join(quoted, ", "))));
    state->created_publication = true;
    spdlog::info("pipeline '{}': created publication '{}' for {}", o.pipeline, o.publication, Join(quoted, ", "));
    return Status::OK();
  }
  SLUICE_ASSIGN_OR_RETURN(
      auto published,
      sql.QueryParams("SELECT schemaname || '.' || tablename AS t FROM pg_publication_tables WHERE pubname = $1",
                      {o.publication}));
  for (size_t i = 0; i < o.tables.size(); ++i) {
    bool found = false;
    for (size_t r = 0; r < published.rows.size(); ++r) found |= published.Get(r, "t") == o.tables[i].source;
    if (found) continue;
    if (!state->created_publication) {
      return Status::Invalid(
          "publication '{}' on {} does not publish table {}: run ALTER PUBLICATION {} ADD TABLE {} "
          "(or name another publication in cdc: publication; sluice creates it when missing)",
          o.publication, sql.endpoint(), o.tables[i].source, o.publication, quoted[i]);
    }
    SLUICE_TRY(
        sql.Execute(fmt::format("ALTER PUBLICATION {} ADD TABLE {}", postgres::QuoteIdent(o.publication), quoted[i])));
  }
  return Status::OK();
}

}  // namespace sluice::connectors::pgcdc
