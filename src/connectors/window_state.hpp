#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace sluice::connectors {

/// The window a run reads: rows with `column >= start AND column < stop`.
struct WindowBounds {
  std::string column, start, stop;
};

/// mode: window: what a source keeps in its checkpoint — the window the next run reads and the
/// windows read so far. Shared with `sluice jobs`, which shows the current window and moves it.
struct WindowState {
  std::optional<std::string> start, stop;  // unset: the configured first window applies
  std::string history_json = "[]";         // [{start, stop, rows, partitions, run_id}, ...], newest last

  /// "" and "{}" are an empty state. DataError for text that is not a JSON object.
  static Result<WindowState> Parse(std::string_view state_json);
  std::string ToJson() const;
};

}  // namespace sluice::connectors
