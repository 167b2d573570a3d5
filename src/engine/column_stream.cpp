#include "engine/column_stream.hpp"

#include <duckdb.h>

#include <cstring>

#include "common/strings.hpp"
#include "engine/duckdb_types.hpp"

namespace sluice::engine {

namespace {

uint8_t StorageBytes(duckdb_type type) {
  switch (type) {
    case DUCKDB_TYPE_BOOLEAN:
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_UTINYINT: return 1;
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_USMALLINT: return 2;
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_DATE: return 4;
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT:
    case DUCKDB_TYPE_UUID:
    case DUCKDB_TYPE_INTERVAL: return 16;
    default: return 8;
  }
}

std::shared_ptr<ColumnType> DescribeType(duckdb_logical_type logical) {
  auto type = std::make_shared<ColumnType>();
  char* name = duckdb_logical_type_get_alias(logical);
  if (name != nullptr) {
    type->name = name;
    duckdb_free(name);
  }
  switch (duckdb_get_type_id(logical)) {
    case DUCKDB_TYPE_BOOLEAN: type->kind = ValueKind::kBoolean; break;
    case DUCKDB_TYPE_TINYINT: type->kind = ValueKind::kTinyInt; break;
    case DUCKDB_TYPE_SMALLINT: type->kind = ValueKind::kSmallInt; break;
    case DUCKDB_TYPE_INTEGER: type->kind = ValueKind::kInteger; break;
    case DUCKDB_TYPE_BIGINT: type->kind = ValueKind::kBigInt; break;
    case DUCKDB_TYPE_UTINYINT: type->kind = ValueKind::kUTinyInt; break;
    case DUCKDB_TYPE_USMALLINT: type->kind = ValueKind::kUSmallInt; break;
    case DUCKDB_TYPE_UINTEGER: type->kind = ValueKind::kUInteger; break;
    case DUCKDB_TYPE_UBIGINT: type->kind = ValueKind::kUBigInt; break;
    case DUCKDB_TYPE_HUGEINT: type->kind = ValueKind::kHugeInt; break;
    case DUCKDB_TYPE_FLOAT: type->kind = ValueKind::kFloat; break;
    case DUCKDB_TYPE_DOUBLE: type->kind = ValueKind::kDouble; break;
    case DUCKDB_TYPE_DECIMAL:
      type->kind = ValueKind::kDecimal;
      type->decimal_width = duckdb_decimal_width(logical);
      type->decimal_scale = duckdb_decimal_scale(logical);
      break;
    case DUCKDB_TYPE_DATE: type->kind = ValueKind::kDate; break;
    case DUCKDB_TYPE_TIME: type->kind = ValueKind::kTime; break;
    case DUCKDB_TYPE_TIMESTAMP: type->kind = ValueKind::kTimestamp; break;
    case DUCKDB_TYPE_TIMESTAMP_TZ: type->kind = ValueKind::kTimestampTz; break;
    case DUCKDB_TYPE_INTERVAL: type->kind = ValueKind::kInterval; break;
    case DUCKDB_TYPE_VARCHAR: type->kind = ValueKind::kVarchar; break;
    case DUCKDB_TYPE_BLOB: type->kind = ValueKind::kBlob; break;
    case DUCKDB_TYPE_UUID: type->kind = ValueKind::kUuid; break;
    case DUCKDB_TYPE_LIST: {
      type->kind = ValueKind::kList;
      duckdb_logical_type child = duckdb_list_type_child_type(logical);
      type->child = DescribeType(child);
      duckdb_destroy_logical_type(&child);
      break;
    }
    default: type->kind = ValueKind::kOther; break;
  }
  return type;
}

uint8_t DecimalStorage(duckdb_logical_type logical) {
  switch (duckdb_decimal_internal_type(logical)) {
    case DUCKDB_TYPE_SMALLINT: return 2;
    case DUCKDB_TYPE_INTEGER: return 4;
    case DUCKDB_TYPE_BIGINT: return 8;
    default: return 16;
  }
}

}  // namespace

void BindVector(ColumnVector& column, void* raw_vector, const std::shared_ptr<ColumnType>& type) {
  auto vector = static_cast<duckdb_vector>(raw_vector);
  column.type_ = type.get();
  column.data_ = duckdb_vector_get_data(vector);
  column.validity_ = duckdb_vector_get_validity(vector);
  duckdb_logical_type logical = duckdb_vector_get_column_type(vector);
  column.storage_ =
      type->kind == ValueKind::kDecimal ? DecimalStorage(logical) : StorageBytes(duckdb_get_type_id(logical));
  duckdb_destroy_logical_type(&logical);
  if (type->kind == ValueKind::kList) {
    if (!column.child_) column.child_ = std::make_shared<ColumnVector>();
    BindVector(*column.child_, duckdb_list_vector_get_child(vector), type->child);
  }
}

bool ColumnVector::IsValid(uint64_t row) const {
  return validity_ == nullptr || duckdb_validity_row_is_valid(const_cast<uint64_t*>(validity_), row);
}

int64_t ColumnVector::Integer(uint64_t row) const {
  switch (storage_) {
    case 1:
      if (type_->kind == ValueKind::kUTinyInt || type_->kind == ValueKind::kBoolean) {
        return static_cast<const uint8_t*>(data_)[row];
      }
      return static_cast<const int8_t*>(data_)[row];
    case 2:
      if (type_->kind == ValueKind::kUSmallInt) return static_cast<const uint16_t*>(data_)[row];
      return static_cast<const int16_t*>(data_)[row];
    case 4:
      if (type_->kind == ValueKind::kUInteger) return static_cast<const uint32_t*>(data_)[row];
      return static_cast<const int32_t*>(data_)[row];
    default: return static_cast<const int64_t*>(data_)[row];
  }
}

double ColumnVector::Floating(uint64_t row) const {
  if (type_->kind == ValueKind::kFloat) return static_cast<const float*>(data_)[row];
  return static_cast<const double*>(data_)[row];
}

Int128 ColumnVector::Wide(uint64_t row) const {
  if (storage_ != 16) {
    int64_t v = Integer(row);
    return Int128{static_cast<uint64_t>(v), v < 0 ? -1 : 0};
  }
  const auto& h = static_cast<const duckdb_hugeint*>(data_)[row];
  return Int128{h.lower, h.upper};
}

Interval ColumnVector::IntervalAt(uint64_t row) const {
  const auto& i = static_cast<const duckdb_interval*>(data_)[row];
  return Interval{i.months, i.days, i.micros};
}

std::string_view ColumnVector::Bytes(uint64_t row) const {
  auto* strings = const_cast<duckdb_string_t*>(static_cast<const duckdb_string_t*>(data_));
  return std::string_view(duckdb_string_t_data(&strings[row]), duckdb_string_t_length(strings[row]));
}

std::pair<uint64_t, uint64_t> ColumnVector::ListRange(uint64_t row) const {
  const auto& entry = static_cast<const duckdb_list_entry*>(data_)[row];
  return {entry.offset, entry.length};
}

class ColumnStreamImpl final : public ColumnStream {
 public:
  ColumnStreamImpl(std::vector<ColumnDescription> columns) : columns_(std::move(columns)) {}
  ~ColumnStreamImpl() override {
    if (chunk_ != nullptr) duckdb_destroy_data_chunk(&chunk_);
    duckdb_destroy_result(&result_);
    duckdb_destroy_prepare(&statement_);
  }

  Status Start(duckdb_connection connection, std::string_view sql) {
    if (duckdb_prepare(connection, std::string(sql).c_str(), &statement_) == DuckDBError) {
      return Status::Invalid("{}", duckdb_prepare_error(statement_));
    }
    if (duckdb_execute_prepared_streaming(statement_, &result_) == DuckDBError) return ResultError();
    idx_t count = duckdb_column_count(&result_);
    for (idx_t c = 0; c < count; ++c) {
      duckdb_logical_type logical = duckdb_column_logical_type(&result_, c);
      types_.push_back(DescribeType(logical));
      duckdb_destroy_logical_type(&logical);
      if (types_.back()->name.empty()) types_.back()->name = c < columns_.size() ? columns_[c].type : "";
    }
    vectors_.resize(count);
    return Status::OK();
  }

  const std::vector<ColumnDescription>& columns() const override { return columns_; }
  const std::vector<std::shared_ptr<ColumnType>>& types() const override { return types_; }

  Result<uint64_t> Next() override {
    if (chunk_ != nullptr) duckdb_destroy_data_chunk(&chunk_);
    chunk_ = duckdb_fetch_chunk(result_);
    if (chunk_ == nullptr) {
      const char* error = duckdb_result_error(&result_);
      if (error != nullptr && *error != '\0') return ResultError();
      return uint64_t{0};
    }
    for (size_t c = 0; c < vectors_.size(); ++c) {
      BindVector(vectors_[c], duckdb_data_chunk_get_vector(chunk_, c), types_[c]);
    }
    return static_cast<uint64_t>(duckdb_data_chunk_get_size(chunk_));
  }

  const ColumnVector& column(size_t index) const override { return vectors_[index]; }

 private:
  Status ResultError() {
    const char* message = duckdb_result_error(&result_);
    return Status(CodeForDuckDbError(duckdb_result_error_type(&result_)), message ? message : "unknown DuckDB error");
  }

  std::vector<ColumnDescription> columns_;
  std::vector<std::shared_ptr<ColumnType>> types_;
  std::vector<ColumnVector> vectors_;
  duckdb_prepared_statement statement_ = nullptr;
  duckdb_result result_{};
  duckdb_data_chunk chunk_ = nullptr;
};

Result<std::unique_ptr<ColumnStream>> StreamColumns(Connection& connection, std::string_view sql) {
  SLUICE_ASSIGN_OR_RETURN(auto columns, connection.Describe(sql));
  auto stream = std::make_unique<ColumnStreamImpl>(std::move(columns));
  SLUICE_TRY(stream->Start(static_cast<duckdb_connection>(connection.RawHandle()), sql));
  return std::unique_ptr<ColumnStream>(std::move(stream));
}

}  // namespace sluice::engine
