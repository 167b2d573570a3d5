#pragma once

#include <fmt/format.h>

#include <cassert>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <variant>

namespace sluice {

/// What kind of failure; decides the exit code and whether a retry can help.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad input from the user: config, CLI flags, SQL
  kNotFound,
  kAlreadyExists,
  kConflict,   // lost a race (concurrent commit, lock held)
  kDataError,  // malformed input data (file, line, column)
  kIoError,
  kUnavailable,  // a server or resource is temporarily unreachable
  kTimeout,
  kCancelled,
  kInternal,
};

const char* StatusCodeName(StatusCode code);

/// Outcome of an operation. Cheap when OK (a null pointer); errors carry code, message and
/// whether retrying the same operation can succeed.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, bool retryable = false);

  static Status OK() { return Status(); }

  template <typename... Args>
  static Status Invalid(fmt::format_string<Args...> f, Args&&... args) {
    return Status(StatusCode::kInvalidArgument, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  static Status NotFound(fmt::format_string<Args...> f, Args&&... args) {
    return Status(StatusCode::kNotFound, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  static Status AlreadyExists(fmt::format_string<Args...> f, Args&&... args) {
    return Status(StatusCode::kAlreadyExists, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  static Status Conflict(fmt::format_string<Args...> f, Args&&... args) {
    return Status(StatusCode::kConflict, fmt::format(f, std::forward<Args>(args)...), true);
  }
  template <typename... Args>
  static Status DataError(fmt::format_string<Args...> f, Args&&... args) {
    return Status(StatusCode::kDataError, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  static Status IoError(fmt::format_string<Args...> f, Args&&... args) {
    return Status(StatusCode::kIoError, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  static Status Unavailable(fmt::format_string<Args...> f, Args&&... args) {
    return Status(StatusCode::kUnavailable, fmt::format(f, std::forward<Args>(args)...), true);
  }
  template <typename... Args>
  static Status Timeout(fmt::format_string<Args...> f, Args&&... args) {
    return Status(StatusCode::kTimeout, fmt::format(f, std::forward<Args>(args)...), true);
  }
  template <typename... Args>
  static Status Cancelled(fmt::format_string<Args...> f, Args&&... args) {
    return Status(StatusCode::kCancelled, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  static Status Internal(fmt::format_string<Args...> f, Args&&... args) {
    return Status(StatusCode::kInternal, fmt::format(f, std::forward<Args>(args)...));
  }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  bool retryable() const { return state_ && state_->retryable; }
  const std::string& message() const;

  /// Prefixes context ("while loading pipeline x: ...") keeping code and retryability.
  template <typename... Args>
  Status WithContext(fmt::format_string<Args...> f, Args&&... args) const {
    if (ok()) return *this;
    return Status(code(), fmt::format(f, std::forward<Args>(args)...) + ": " + message(), retryable());
  }

  std::string ToString() const;

 private:
  struct State {
    StatusCode code;
    std::string message;
    bool retryable;
  };
  std::shared_ptr<const State> state_;
};

/// A value or the Status explaining why there is none (shaped like arrow::Result).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : storage_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : storage_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(storage_).ok() && "Result built from an OK status has no value");
  }

  bool ok() const { return std::holds_alternative<T>(storage_); }
  Status status() const { return ok() ? Status::OK() : std::get<Status>(storage_); }

  const T& value() const& { return std::get<T>(storage_); }
  T& value() & { return std::get<T>(storage_); }
  T&& value() && { return std::get<T>(std::move(storage_)); }
  T ValueOr(T fallback) const { return ok() ? value() : std::move(fallback); }

  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<T, Status> storage_;
};

inline std::ostream& operator<<(std::ostream& os, const Status& s) { return os << s.ToString(); }

namespace internal {
inline Status ToStatus(Status s) { return s; }
template <typename T>
Status ToStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace internal

}  // namespace sluice

#define SLUICE_CONCAT_INNER(a, b) a##b
#define SLUICE_CONCAT(a, b) SLUICE_CONCAT_INNER(a, b)

#define SLUICE_TRY(expr)                                              \
  do {                                                                \
    ::sluice::Status _sluice_st = ::sluice::internal::ToStatus(expr); \
    if (!_sluice_st.ok()) return _sluice_st;                          \
  } while (false)

#define SLUICE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

#define SLUICE_ASSIGN_OR_RETURN(lhs, expr) \
  SLUICE_ASSIGN_OR_RETURN_IMPL(SLUICE_CONCAT(_sluice_result_, __LINE__), lhs, expr)

template <>
struct fmt::formatter<sluice::Status> : fmt::formatter<std::string> {
  auto format(const sluice::Status& s, fmt::format_context& ctx) const {
    return fmt::formatter<std::string>::format(s.ToString(), ctx);
  }
};
