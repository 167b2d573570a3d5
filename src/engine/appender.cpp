#include "engine/appender.hpp"

#include <duckdb.h>

#include <array>
#include <cstring>
#include <new>

#include "common/strings.hpp"
#include "engine/duckdb_types.hpp"

namespace sluice::engine {

/// One vector being filled: a top-level column of the chunk, or the child vector of a LIST column.
struct AppenderColumnState {
  ColumnKind kind = ColumnKind::kVarchar;
  duckdb_type physical = DUCKDB_TYPE_INVALID;  // storage type (DECIMAL: its internal integer type)
  int width = 0;                               // DECIMAL: values must stay below 10^width
  std::string name;                            // for messages
  const std::string* table = nullptr;
  Status* error = nullptr;  // the owning appender's sticky error
  duckdb_vector vector = nullptr;
  void* data = nullptr;
  uint64_t* validity = nullptr;  // null until the first NULL in this chunk
  uint64_t stamp = 0;            // row stamp of the last write (top-level columns)

  // LIST columns: the element vector and the list being built in the current row.
  std::unique_ptr<AppenderColumnState> child;
  idx_t child_size = 0;
  idx_t child_capacity = 0;  // what we reserved since the last reset
  duckdb_list_entry* open_list = nullptr;

  void Fail(Status status) {
    if (error->ok()) *error = std::move(status);
  }

  void Refresh() {
    data = duckdb_vector_get_data(vector);
    validity = nullptr;
    if (child != nullptr) {
      child_size = 0;
      child_capacity = 0;
      open_list = nullptr;
      duckdb_list_vector_set_size(vector, 0);
      child->vector = duckdb_list_vector_get_child(vector);
      child->Refresh();
    }
  }

  void SetValidity(idx_t i, bool valid) {
    if (validity == nullptr) {
      if (valid) return;
      duckdb_vector_ensure_validity_writable(vector);
      validity = duckdb_vector_get_validity(vector);
    }
    duckdb_validity_set_row_validity(validity, i, valid);
  }
};

namespace {

__extension__ typedef __int128 Int128Native;
__extension__ typedef unsigned __int128 UInt128Native;

Int128Native ToNative(Int128 v) {
  return static_cast<Int128Native>((static_cast<UInt128Native>(static_cast<uint64_t>(v.high)) << 64) | v.low);
}

std::unique_ptr<AppenderColumnState> MakeState(const AppendColumn& column, duckdb_logical_type type,
                                               const std::string* table, Status* error) {
  auto state = std::make_unique<AppenderColumnState>();
  state->kind = column.kind;
  state->physical = column.kind == ColumnKind::kDecimal ? duckdb_decimal_internal_type(type) : duckdb_get_type_id(type);
  state->width = column.width;
  state->name = column.name;
  state->table = table;
  state->error = error;
  if (column.kind == ColumnKind::kList) {
    LogicalType child_type(duckdb_list_type_child_type(type));
    state->child = MakeState(column.element[0], child_type.get(), table, error);
    state->child->name = column.name + "[]";
  }
  return state;
}

/// Strict UTF-8 check (no overlongs, surrogates or code points past U+10FFFF): DuckDB's VARCHAR
/// relies on it and misbehaves later, far from the cause, when it is violated.
bool IsValidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char* end = p + text.size();
  while (p < end) {
    if (end - p >= 8) {
      uint64_t block;
      std::memcpy(&block, p, 8);
      if ((block & 0x8080808080808080ULL) == 0) {
        p += 8;
        continue;
      }
    }
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int extra;
    uint32_t min;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      extra = 1, min = 0x80, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, min = 0x800, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, min = 0x10000, cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= extra) return false;
    for (int i = 1; i <= extra; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += extra + 1;
  }
  return true;
}

const char* SetterName(ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kBool: return "Bool";
    case ColumnKind::kInt16: return "Int16";
    case ColumnKind::kInt32: return "Int32";
    case ColumnKind::kInt64: return "Int64";
    case ColumnKind::kFloat: return "Float";
    case ColumnKind::kDouble: return "Double";
    case ColumnKind::kVarchar:
    case ColumnKind::kJson: return "Varchar";
    case ColumnKind::kBlob: return "Blob";
    case ColumnKind::kDate: return "Date";
    case ColumnKind::kTime: return "Time";
    case ColumnKind::kTimestamp:
    case ColumnKind::kTimestampTz: return "Timestamp";
    case ColumnKind::kInterval: return "Interval";
    case ColumnKind::kUuid: return "Uuid";
    case ColumnKind::kDecimal: return "Decimal";
    case ColumnKind::kList: return "List";
  }
  return "?";
}

bool Accepts(ColumnKind column, ColumnKind setter) {
  if (column == setter) return true;
  if (setter == ColumnKind::kVarchar) return column == ColumnKind::kJson;
  if (setter == ColumnKind::kTimestamp) return column == ColumnKind::kTimestampTz;
  return false;
}

bool CheckKind(AppenderColumnState* s, ColumnKind setter) {
  if (Accepts(s->kind, setter)) return true;
  s->Fail(Status::Invalid("appending to DuckDB table '{}': column '{}' is {} but a {} value was given", *s->table,
                          s->name, ColumnKindName(s->kind), SetterName(setter)));
  return false;
}

template <typename T>
void Store(AppenderColumnState* s, idx_t i, T value) {
  static_cast<T*>(s->data)[i] = value;
  if (s->validity != nullptr) duckdb_validity_set_row_valid(s->validity, i);
}

void StoreString(AppenderColumnState* s, idx_t i, std::string_view value, bool check_utf8) {
  if (check_utf8 && !IsValidUtf8(value)) {
    s->Fail(
        Status::DataError("appending to DuckDB table '{}': column '{}' got text that is not valid UTF-8; "
                          "read the source with a UTF-8 client encoding or load the column as BLOB",
                          *s->table, s->name));
    return;
  }
  duckdb_vector_assign_string_element_len(s->vector, i, value.data(), value.size());
  if (s->validity != nullptr) duckdb_validity_set_row_valid(s->validity, i);
}

const Int128Native& Pow10(int n) {
  static const auto kPowers = [] {
    std::array<Int128Native, 39> t{};
    t[0] = 1;
    for (size_t i = 1; i < t.size(); ++i) t[i] = t[i - 1] * 10;
    return t;
  }();
  return kPowers[static_cast<size_t>(n)];
}

void StoreDecimal(AppenderColumnState* s, idx_t i, Int128 unscaled) {
  Int128Native v = ToNative(unscaled);
  Int128Native limit = Pow10(s->width);
  if (v >= limit || v <= -limit) {
    s->Fail(Status::DataError("appending to DuckDB table '{}': column '{}' got a value with more than {} digits",
                              *s->table, s->name, s->width));
    return;
  }
  switch (s->physical) {
    case DUCKDB_TYPE_SMALLINT: Store(s, i, static_cast<int16_t>(v)); break;
    case DUCKDB_TYPE_INTEGER: Store(s, i, static_cast<int32_t>(v)); break;
    case DUCKDB_TYPE_BIGINT: Store(s, i, static_cast<int64_t>(v)); break;
    default: Store(s, i, duckdb_hugeint{unscaled.low, unscaled.high}); break;
  }
}

void StoreUuid(AppenderColumnState* s, idx_t i, const uint8_t (&bytes)[16]) {
  uint64_t upper = 0;
  uint64_t lower = 0;
  for (int b = 0; b < 8; ++b) upper = (upper << 8) | bytes[b];
  for (int b = 8; b < 16; ++b) lower = (lower << 8) | bytes[b];
  // DuckDB flips the top bit so that UUIDs sort like their text form.
  upper ^= uint64_t{1} << 63;
  Store(s, i, duckdb_hugeint{lower, static_cast<int64_t>(upper)});
}

/// Index of the next element of `list`'s open list value, growing the element vector as needed.
bool NextElement(AppenderColumnState* list, idx_t* index) {
  if (list->open_list == nullptr) {
    list->Fail(
        Status::Invalid("appending to DuckDB table '{}': an element was added to column '{}' without "
                        "BeginList in this row",
                        *list->table, list->name));
    return false;
  }
  if (list->child_size == list->child_capacity) {
    idx_t wanted = list->child_capacity == 0 ? duckdb_vector_size() : list->child_capacity * 2;
    if (duckdb_list_vector_reserve(list->vector, wanted) == DuckDBError) {
      list->Fail(Status::Internal("appending to DuckDB table '{}': could not grow the list column '{}'", *list->table,
                                  list->name));
      return false;
    }
    list->child_capacity = wanted;
    AppenderColumnState* child = list->child.get();
    child->vector = duckdb_list_vector_get_child(list->vector);
    child->data = duckdb_vector_get_data(child->vector);
    if (child->validity != nullptr) child->validity = duckdb_vector_get_validity(child->vector);
  }
  *index = list->child_size++;
  list->open_list->length++;
  return true;
}

}  // namespace

struct Appender::Impl {
  std::string table;
  duckdb_appender appender = nullptr;
  duckdb_data_chunk chunk = nullptr;
  std::vector<std::unique_ptr<AppenderColumnState>> states;

  ~Impl() {
    // A ForChunks appender (no `appender`) writes into DuckDB's output chunks, which it does not own.
    if (chunk != nullptr && appender != nullptr) duckdb_destroy_data_chunk(&chunk);
    // Destroy also flushes; rows were already flushed or deliberately abandoned on error.
    if (appender != nullptr) duckdb_appender_destroy(&appender);
  }

  Status AppenderError(std::string_view what) {
    duckdb_error_data error = duckdb_appender_error_data(appender);
    bool has = error != nullptr && duckdb_error_data_has_error(error);
    std::string message = has ? duckdb_error_data_message(error) : "unknown DuckDB error";
    StatusCode code = StatusCode::kIoError;
    switch (has ? duckdb_error_data_error_type(error) : DUCKDB_ERROR_INVALID) {
      case DUCKDB_ERROR_CATALOG: code = StatusCode::kNotFound; break;
      case DUCKDB_ERROR_CONVERSION:
      case DUCKDB_ERROR_INVALID_INPUT:
      case DUCKDB_ERROR_OUT_OF_RANGE:
      case DUCKDB_ERROR_CONSTRAINT: code = StatusCode::kDataError; break;
      case DUCKDB_ERROR_INTERRUPT: code = StatusCode::kCancelled; break;
      default: break;
    }
    if (error != nullptr) duckdb_destroy_error_data(&error);
    return Status(code, fmt::format("{} DuckDB table '{}': {}", what, table, message));
  }
};

Appender::Appender() : chunk_capacity_(duckdb_vector_size()) {}

Appender::~Appender() = default;

Result<std::unique_ptr<Appender>> Appender::Make(Connection& connection, std::string_view table,
                                                 std::vector<AppendColumn> columns, std::string_view schema) {
  auto* raw = static_cast<duckdb_connection>(connection.RawHandle());
  if (raw == nullptr) return Status::Internal("this engine connection cannot append (no DuckDB handle)");
  for (const auto& column : columns) SLUICE_TRY(CheckColumnSpec(column, false).WithContext("DuckDB table '{}'", table));
  try {
    auto impl = std::make_unique<Impl>();
    impl->table = std::string(table);
    std::string schema_name(schema);
    if (duckdb_appender_create(raw, schema.empty() ? nullptr : schema_name.c_str(), impl->table.c_str(),
                               &impl->appender) == DuckDBError) {
      Status error = impl->AppenderError("cannot append to");
      return Status(error.code(), error.message() + "; create the table before appending to it");
    }
    idx_t count = duckdb_appender_column_count(impl->appender);
    if (count != columns.size()) {
      return Status::Invalid("DuckDB table '{}' has {} columns but the appender was given {}", table, count,
                             columns.size());
    }
    std::vector<std::unique_ptr<LogicalType>> owned;
    std::vector<duckdb_logical_type> types;
    for (idx_t i = 0; i < count; ++i) {
      owned.push_back(std::make_unique<LogicalType>(duckdb_appender_column_type(impl->appender, i)));
      types.push_back(owned.back()->get());
      std::string mismatch = TypeMismatch(columns[i], types.back());
      if (!mismatch.empty()) {
        return Status::Invalid("DuckDB table '{}', column #{} ('{}'): {}", table, i + 1, columns[i].name, mismatch);
      }
    }
    impl->chunk = duckdb_create_data_chunk(types.data(), count);
    if (impl->chunk == nullptr) return Status::Internal("could not create a data chunk for DuckDB table '{}'", table);
    auto appender = std::unique_ptr<Appender>(new Appender());
    for (idx_t i = 0; i < count; ++i) {
      auto state = MakeState(columns[i], types[i], &impl->table, &appender->error_);
      state->vector = duckdb_data_chunk_get_vector(impl->chunk, i);
      state->Refresh();
      impl->states.push_back(std::move(state));
    }
    for (auto& state : impl->states) appender->states_.push_back(state.get());
    appender->impl_ = std::move(impl);
    appender->columns_ = std::move(columns);
    return appender;
  } catch (const std::bad_alloc&) {
    return Status::Internal("out of memory while opening an appender on DuckDB table '{}'", table);
  }
}

Result<std::unique_ptr<Appender>> Appender::ForChunks(std::string_view name, std::vector<AppendColumn> columns) {
  for (const auto& column : columns) SLUICE_TRY(CheckColumnSpec(column, false).WithContext("row stream '{}'", name));
  try {
    auto impl = std::make_unique<Impl>();
    impl->table = std::string(name);
    auto appender = std::unique_ptr<Appender>(new Appender());
    for (const auto& column : columns) {
      LogicalType type(NewLogicalType(column));
      impl->states.push_back(MakeState(column, type.get(), &impl->table, &appender->error_));
    }
    for (auto& state : impl->states) appender->states_.push_back(state.get());
    appender->impl_ = std::move(impl);
    appender->columns_ = std::move(columns);
    appender->row_in_chunk_ = appender->chunk_capacity_;  // no chunk until BeginChunk
    return appender;
  } catch (const std::bad_alloc&) {
    return Status::Internal("out of memory while opening row stream '{}'", name);
  }
}

void Appender::BeginChunk(void* chunk) {
  impl_->chunk = static_cast<duckdb_data_chunk>(chunk);
  for (size_t i = 0; i < states_.size(); ++i) {
    states_[i]->vector = duckdb_data_chunk_get_vector(impl_->chunk, i);
    states_[i]->Refresh();
  }
  row_in_chunk_ = 0;
}

size_t Appender::EndChunk() {
  size_t rows = row_in_chunk_;
  SealChunk(impl_->chunk);
  impl_->chunk = nullptr;  // DuckDB's, not ours to destroy
  row_in_chunk_ = chunk_capacity_;
  return rows;
}

void Appender::SealChunk(void* chunk) {
  duckdb_data_chunk_set_size(static_cast<duckdb_data_chunk>(chunk), row_in_chunk_);
  for (AppenderColumnState* s : states_) {
    if (s->child != nullptr) duckdb_list_vector_set_size(s->vector, s->child_size);
  }
}

void Appender::OutOfRange(size_t col) {
  if (error_.ok()) {
    error_ = Status::Invalid("appending to DuckDB table '{}': column index {} is out of range (the table has {})",
                             impl_->table, col, states_.size());
  }
}

AppenderColumnState* Appender::Column(size_t col, ColumnKind kind) {
  if (col >= states_.size()) {
    OutOfRange(col);
    return nullptr;
  }
  AppenderColumnState* s = states_[col];
  if (!CheckKind(s, kind)) return nullptr;
  s->stamp = row_stamp_;
  return s;
}

void Appender::SetNull(size_t col) {
  if (col >= states_.size()) {
    OutOfRange(col);
    return;
  }
  AppenderColumnState* s = states_[col];
  s->stamp = row_stamp_;
  if (s->kind == ColumnKind::kList) {
    static_cast<duckdb_list_entry*>(s->data)[row_in_chunk_] = duckdb_list_entry{s->child_size, 0};
    s->open_list = nullptr;
  }
  s->SetValidity(row_in_chunk_, false);
}

void Appender::SetBool(size_t col, bool value) {
  if (auto* s = Column(col, ColumnKind::kBool)) Store(s, row_in_chunk_, value);
}
void Appender::SetInt16(size_t col, int16_t value) {
  if (auto* s = Column(col, ColumnKind::kInt16)) Store(s, row_in_chunk_, value);
}
void Appender::SetInt32(size_t col, int32_t value) {
  if (auto* s = Column(col, ColumnKind::kInt32)) Store(s, row_in_chunk_, value);
}
void Appender::SetInt64(size_t col, int64_t value) {
  if (auto* s = Column(col, ColumnKind::kInt64)) Store(s, row_in_chunk_, value);
}
void Appender::SetFloat(size_t col, float value) {
  if (auto* s = Column(col, ColumnKind::kFloat)) Store(s, row_in_chunk_, value);
}
void Appender::SetDouble(size_t col, double value) {
  if (auto* s = Column(col, ColumnKind::kDouble)) Store(s, row_in_chunk_, value);
}
void Appender::SetVarchar(size_t col, std::string_view value) {
  if (auto* s = Column(col, ColumnKind::kVarchar)) StoreString(s, row_in_chunk_, value, true);
}
void Appender::SetBlob(size_t col, std::string_view value) {
  if (auto* s = Column(col, ColumnKind::kBlob)) StoreString(s, row_in_chunk_, value, false);
}
void Appender::SetDate(size_t col, int32_t days_since_epoch) {
  if (auto* s = Column(col, ColumnKind::kDate)) Store(s, row_in_chunk_, duckdb_date{days_since_epoch});
}
void Appender::SetTime(size_t col, int64_t micros_since_midnight) {
  if (auto* s = Column(col, ColumnKind::kTime)) Store(s, row_in_chunk_, duckdb_time{micros_since_midnight});
}
void Appender::SetTimestamp(size_t col, int64_t micros_since_epoch) {
  if (auto* s = Column(col, ColumnKind::kTimestamp)) Store(s, row_in_chunk_, duckdb_timestamp{micros_since_epoch});
}
void Appender::SetInterval(size_t col, const Interval& value) {
  if (auto* s = Column(col, ColumnKind::kInterval)) {
    Store(s, row_in_chunk_, duckdb_interval{value.months, value.days, value.micros});
  }
}
void Appender::SetUuid(size_t col, const uint8_t (&bytes)[16]) {
  if (auto* s = Column(col, ColumnKind::kUuid)) StoreUuid(s, row_in_chunk_, bytes);
}
void Appender::SetDecimal(size_t col, Int128 unscaled) {
  if (auto* s = Column(col, ColumnKind::kDecimal)) StoreDecimal(s, row_in_chunk_, unscaled);
}

ListBuilder Appender::BeginList(size_t col) {
  AppenderColumnState* s = Column(col, ColumnKind::kList);
  if (s == nullptr) return ListBuilder(nullptr);
  auto* entries = static_cast<duckdb_list_entry*>(s->data);
  entries[row_in_chunk_] = duckdb_list_entry{s->child_size, 0};
  s->open_list = &entries[row_in_chunk_];
  if (s->validity != nullptr) duckdb_validity_set_row_valid(s->validity, row_in_chunk_);
  return ListBuilder(s);
}

namespace {
/// The element slot for a ListBuilder add, or null after recording why there is none.
AppenderColumnState* Element(AppenderColumnState* list, ColumnKind kind, idx_t* index) {
  if (list == nullptr) return nullptr;  // BeginList failed and said why
  if (!CheckKind(list->child.get(), kind)) return nullptr;
  if (!NextElement(list, index)) return nullptr;
  return list->child.get();
}
}  // namespace

void ListBuilder::AddNull() {
  idx_t i;
  if (column_ == nullptr || !NextElement(column_, &i)) return;
  column_->child->SetValidity(i, false);
}
void ListBuilder::AddBool(bool value) {
  idx_t i;
  if (auto* s = Element(column_, ColumnKind::kBool, &i)) Store(s, i, value);
}
void ListBuilder::AddInt16(int16_t value) {
  idx_t i;
  if (auto* s = Element(column_, ColumnKind::kInt16, &i)) Store(s, i, value);
}
void ListBuilder::AddInt32(int32_t value) {
  idx_t i;
  if (auto* s = Element(column_, ColumnKind::kInt32, &i)) Store(s, i, value);
}
void ListBuilder::AddInt64(int64_t value) {
  idx_t i;
  if (auto* s = Element(column_, ColumnKind::kInt64, &i)) Store(s, i, value);
}
void ListBuilder::AddFloat(float value) {
  idx_t i;
  if (auto* s = Element(column_, ColumnKind::kFloat, &i)) Store(s, i, value);
}
void ListBuilder::AddDouble(double value) {
  idx_t i;
  if (auto* s = Element(column_, ColumnKind::kDouble, &i)) Store(s, i, value);
}
void ListBuilder::AddVarchar(std::string_view value) {
  idx_t i;
  if (auto* s = Element(column_, ColumnKind::kVarchar, &i)) StoreString(s, i, value, true);
}
void ListBuilder::AddBlob(std::string_view value) {
  idx_t i;
  if (auto* s = Element(column_, ColumnKind::kBlob, &i)) StoreString(s, i, value, false);
}
void ListBuilder::AddDate(int32_t days) {
  idx_t i;
  if (auto* s = Element(column_, ColumnKind::kDate, &i)) Store(s, i, duckdb_date{days});
}
void ListBuilder::AddTime(int64_t micros) {
  idx_t i;
  if (auto* s = Element(column_, ColumnKind::kTime, &i)) Store(s, i, duckdb_time{micros});
}
void ListBuilder::AddTimestamp(int64_t micros) {
  idx_t i;
  if (auto* s = Element(column_, ColumnKind::kTimestamp, &i)) Store(s, i, duckdb_timestamp{micros});
}
void ListBuilder::AddInterval(const Interval& value) {
  idx_t i;
  if (auto* s = Element(column_, ColumnKind::kInterval, &i)) {
    Store(s, i, duckdb_interval{value.months, value.days, value.micros});
  }
}
void ListBuilder::AddUuid(const uint8_t (&bytes)[16]) {
  idx_t i;
  if (auto* s = Element(column_, ColumnKind::kUuid, &i)) StoreUuid(s, i, bytes);
}
void ListBuilder::AddDecimal(Int128 unscaled) {
  idx_t i;
  if (auto* s = Element(column_, ColumnKind::kDecimal, &i)) StoreDecimal(s, i, unscaled);
}

Status Appender::EndRow() {
  if (closed_) return Status::Invalid("appending to DuckDB table '{}': the appender is closed", impl_->table);
  if (!error_.ok()) return error_;
  for (size_t col = 0; col < states_.size(); ++col) {
    if (states_[col]->stamp != row_stamp_) SetNull(col);
    states_[col]->open_list = nullptr;
  }
  ++row_stamp_;
  ++rows_;
  if (++row_in_chunk_ == chunk_capacity_ && impl_->appender != nullptr) return AppendChunk();
  return Status::OK();
}

Status Appender::AppendChunk() {
  if (row_in_chunk_ == 0) return Status::OK();
  SealChunk(impl_->chunk);
  if (duckdb_append_data_chunk(impl_->appender, impl_->chunk) == DuckDBError) {
    error_ = impl_->AppenderError("appending to");
    return error_;
  }
  duckdb_data_chunk_reset(impl_->chunk);
  row_in_chunk_ = 0;
  for (AppenderColumnState* s : states_) s->Refresh();
  return Status::OK();
}

Status Appender::Flush() {
  if (closed_) return Status::Invalid("appending to DuckDB table '{}': the appender is closed", impl_->table);
  if (!error_.ok()) return error_;
  if (impl_->appender == nullptr) return Status::OK();  // ForChunks: the reader of the stream takes each chunk
  SLUICE_TRY(AppendChunk());
  if (duckdb_appender_flush(impl_->appender) == DuckDBError) {
    error_ = impl_->AppenderError("flushing rows into");
    return error_;
  }
  return Status::OK();
}

Status Appender::Close() {
  if (closed_) return Status::OK();
  Status flushed = Flush();
  closed_ = true;
  if (!flushed.ok()) return flushed;
  if (impl_->appender == nullptr) return Status::OK();
  if (duckdb_appender_close(impl_->appender) == DuckDBError) {
    error_ = impl_->AppenderError("closing the appender on");
    return error_;
  }
  return Status::OK();
}

}  // namespace sluice::engine
