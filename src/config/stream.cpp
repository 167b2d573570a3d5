#include "config/stream.hpp"

#include <fmt/format.h>

#include "common/strings.hpp"
#include "config/document.hpp"
#include "config/option_reader.hpp"

namespace sluice::config {

using internal::Prefix;

const std::vector<OptionSpec>& StreamKeys() {
  static const std::vector<OptionSpec> kKeys = {
      {"token", OptionType::kString, "", false, true,
       "bearer token of this stream's producers, e.g. ${env:WEB_EVENTS_TOKEN} (server.token also works)"},
      {"target", OptionType::kMap, "", true, false, "the lake table the records land in: { zone, table } (keys below)"},
      {"buffer", OptionType::kMap, "", false, false,
       "when buffered records are written to the lake: { max_bytes, max_age }, whichever comes first"},
      {"partition_by", OptionType::kStringList, "", false, false,
       "columns (fields of the records or derived columns:) whose values become folders; default _arrival_date"},
      {"columns", OptionType::kMap, "", false, false,
       "derived columns: name → SQL expression over the record's fields, e.g. event_date: "
       "\"CAST(to_timestamp(ts / 1000) AS DATE)\""},
      {"aws_access_keys", OptionType::kList, "", false, false,
       "access keys of AWS SDK Firehose producers: a list of { id, secret } (SigV4-signed requests to /firehose)"},
      {"max_record_size", OptionType::kByteSize, "1MiB", false, false,
       "largest record; a larger one fails alone (by its index), its neighbours land"},
      {"max_request_bytes", OptionType::kByteSize, "4MiB", false, false,
       "largest request body, after gzip decompression; larger requests get 413"},
      {"max_request_records", OptionType::kInt, "500", false, false, "most records in one request; more get 413"},
      {"max_spool_bytes", OptionType::kByteSize, "1GiB", false, false,
       "records on disk not yet in the lake; above it requests get 429 with Retry-After"},
      {"max_active_partitions", OptionType::kInt, "100", false, false,
       "most partitions one flush writes; records of further partitions go to <table>__rejects"},
  };
  return kKeys;
}

const std::vector<OptionSpec>& StreamTargetKeys() {
  static const std::vector<OptionSpec> kKeys = {
      {"zone", OptionType::kString, "raw", false, false, "zone of the table: raw, silver or gold"},
      {"table", OptionType::kString, "", true, false, "name of the table"},
      {"schema_evolution", OptionType::kString, "quarantine", false, false,
       "a field whose type no longer fits its column: quarantine (the record goes to <table>__rejects) or evolve "
       "(the column widens, to text if need be); new fields always become nullable columns"},
  };
  return kKeys;
}

const std::vector<OptionSpec>& StreamBufferKeys() {
  static const std::vector<OptionSpec> kKeys = {
      {"max_bytes", OptionType::kByteSize, "64MiB", false, false, "write to the lake once this much is buffered"},
      {"max_age", OptionType::kDuration, "60s", false, false,
       "write to the lake once the oldest buffered record is this old"},
  };
  return kKeys;
}

const std::vector<OptionSpec>& StreamAwsKeyKeys() {
  static const std::vector<OptionSpec> kKeys = {
      {"id", OptionType::kString, "", true, false, "access key id, e.g. AKIAWEBEVENTS"},
      {"secret", OptionType::kString, "", true, true, "secret access key, e.g. ${env:WEB_EVENTS_AWS_SECRET}"},
  };
  return kKeys;
}

namespace {

const Value kNull;

const Value& Child(const Value& map, std::string_view key) {
  const Value* found = map.IsMap() ? map.Find(key) : nullptr;
  return found != nullptr ? *found : kNull;
}

template <typename T>
T Take(Result<T> value, T fallback, std::vector<std::string>* errors) {
  if (value.ok()) return *value;
  errors->push_back(value.status().message());
  return fallback;
}

StreamConfig ReadStream(const std::string& name, const Value& entry, const std::string& display,
                        std::vector<std::string>* errors) {
  StreamConfig stream;
  stream.name = name;
  std::string where = fmt::format("stream '{}' of {}", name, display);
  ValidateOptions(entry, StreamKeys(), where, errors);
  if (const Value& token = Child(entry, "token"); token.IsScalar()) stream.token = Secret(token.scalar());

  const Value& target = Child(entry, "target");
  ValidateOptions(target, StreamTargetKeys(), "target of " + where, errors);
  OptionReader target_keys(target, StreamTargetKeys());
  stream.zone = Take(target_keys.String("zone"), std::string("raw"), errors);
  stream.table = Take(target_keys.String("table"), std::string(), errors);
  stream.schema_evolution = Take(target_keys.String("schema_evolution"), std::string("quarantine"), errors);
  if (stream.zone != "raw" && stream.zone != "silver" && stream.zone != "gold") {
    errors->push_back(fmt::format("{}streams.{}.target.zone '{}' is not a zone; write raw, silver or gold",
                                  Prefix(target.location()), name, stream.zone));
  }
  if (!stream.table.empty() && !internal::IsPlainName(stream.table)) {
    errors->push_back(fmt::format("{}streams.{}.target.table '{}' may only use letters, digits, '_', '-' and '.'",
                                  Prefix(target.location()), name, stream.table));
  }
  if (stream.schema_evolution != "quarantine" && stream.schema_evolution != "evolve") {
    errors->push_back(
        fmt::format("{}streams.{}.target.schema_evolution '{}' is not known; write quarantine or evolve "
                    "(a stream cannot stop at a type change: it keeps receiving)",
                    Prefix(target.location()), name, stream.schema_evolution));
  }

  const Value& buffer = Child(entry, "buffer");
  ValidateOptions(buffer, StreamBufferKeys(), "buffer of " + where, errors);
  OptionReader buffer_keys(buffer, StreamBufferKeys());
  stream.max_bytes = Take(buffer_keys.ByteSize("max_bytes"), stream.max_bytes, errors);
  stream.max_age = Take(buffer_keys.Duration("max_age"), stream.max_age, errors);

  if (const Value& partition_by = Child(entry, "partition_by"); !partition_by.IsNull()) {
    stream.partition_by = Take(partition_by.AsStringList(), std::vector<std::string>{}, errors);
  }
  if (const Value& columns = Child(entry, "columns"); columns.IsMap()) {
    for (const auto& [column, expression] : columns.entries()) {
      if (!expression.IsScalar() || Trim(expression.scalar()).empty()) {
        errors->push_back(
            fmt::format("{}streams.{}.columns.{} must be a SQL expression, e.g. "
                        "\"CAST(to_timestamp(ts / 1000) AS DATE)\"",
                        Prefix(columns.KeyLocation(column)), name, column));
        continue;
      }
      if (std::string folded = ToLower(column);
          folded == "_arrived_at" || folded == "_arrival_date" || folded == "_source_file") {
        errors->push_back(
            fmt::format("{}streams.{}.columns.{}: sluice sets _arrived_at, _arrival_date and "
                        "_source_file itself (docs/streams.md); give the derived column another name",
                        Prefix(columns.KeyLocation(column)), name, column));
        continue;
      }
      stream.columns.emplace_back(column, expression.scalar());
    }
  }
  if (const Value& keys = Child(entry, "aws_access_keys"); keys.IsList()) {
    for (const auto& key : keys.items()) {
      if (!key.IsMap()) {
        errors->push_back(fmt::format("{}each of streams.{}.aws_access_keys must be a map {{ id, secret }}",
                                      Prefix(key.location()), name));
        continue;
      }
      ValidateOptions(key, StreamAwsKeyKeys(), "aws_access_keys of " + where, errors);
      StreamAwsKey aws;
      aws.id = Take(key.GetString("id", ""), std::string(), errors);
      if (const Value& secret = Child(key, "secret"); secret.IsScalar()) aws.secret = Secret(secret.scalar());
      if (!aws.id.empty() && !aws.secret.empty()) stream.aws_access_keys.push_back(std::move(aws));
    }
  }
  OptionReader keys(entry, StreamKeys());
  stream.max_record_size = Take(keys.ByteSize("max_record_size"), stream.max_record_size, errors);
  stream.max_request_bytes = Take(keys.ByteSize("max_request_bytes"), stream.max_request_bytes, errors);
  stream.max_request_records = Take(keys.Int("max_request_records"), stream.max_request_records, errors);
  stream.max_spool_bytes = Take(keys.ByteSize("max_spool_bytes"), stream.max_spool_bytes, errors);
  stream.max_active_partitions = Take(keys.Int("max_active_partitions"), stream.max_active_partitions, errors);
  // Bounds that keep one request, and one flush, within memory.
  auto positive = [&](std::string_view key, uint64_t value, uint64_t most) {
    if (value == 0 || value > most) {
      errors->push_back(fmt::format("{}streams.{}.{} must be between 1 and {}, got {}", Prefix(entry.location()), name,
                                    key, most, value));
    }
  };
  positive("max_record_size", stream.max_record_size, 64ull << 20);
  positive("max_request_bytes", stream.max_request_bytes, 256ull << 20);
  positive("max_request_records", static_cast<uint64_t>(std::max<int64_t>(stream.max_request_records, 0)), 1000000);
  positive("max_active_partitions", static_cast<uint64_t>(std::max<int64_t>(stream.max_active_partitions, 0)), 100000);
  positive("buffer.max_bytes", stream.max_bytes, 16ull << 30);
  positive("max_spool_bytes", stream.max_spool_bytes, 1ull << 50);
  return stream;
}

}  // namespace

std::vector<StreamConfig> ReadStreams(const Value& section, const std::string& display,
                                      std::vector<std::string>* errors) {
  std::vector<StreamConfig> streams;
  if (section.IsNull()) return streams;
  if (!section.IsMap()) {
    errors->push_back(
        fmt::format("{}streams: must be a map of stream names, e.g. streams: {{ web_events: {{ target: "
                    "{{ zone: raw, table: web_events }} }} }}",
                    Prefix(section.location())));
    return streams;
  }
  for (const auto& [name, entry] : section.entries()) {
    if (!internal::IsPlainName(name)) {
      errors->push_back(fmt::format("{}stream name '{}' may only use letters, digits, '_', '-' and '.'",
                                    Prefix(section.KeyLocation(name)), name));
      continue;
    }
    if (!entry.IsMap()) {
      errors->push_back(
          fmt::format("{}streams.{} must be a map with a target:, e.g. {{ target: {{ zone: raw, table: {} }} }}",
                      Prefix(section.KeyLocation(name)), name, name));
      continue;
    }
    streams.push_back(ReadStream(name, entry, display, errors));
  }
  return streams;
}

std::vector<StreamConfig> ProjectStreams(const ProjectConfig& project) {
  std::vector<std::string> ignored;  // reported by LoadProject already
  const Value* section = project.raw.IsMap() ? project.raw.Find("streams") : nullptr;
  return section != nullptr ? ReadStreams(*section, project.file.filename().string(), &ignored)
                            : std::vector<StreamConfig>{};
}

}  // namespace sluice::config
