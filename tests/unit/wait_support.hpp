#pragma once

// Waiting for an observable state (a run record, a committed version) in tests that drive threads
// or processes: the outcome never depends on timing, only the deadline bounds a hang.

#include <chrono>
#include <functional>
#include <thread>

namespace sluice::test_support {

/// Polls `reached` until it holds (true) or `deadline` has passed (false). The pause between looks
/// only spares the CPU; make the deadline generous (tens of seconds or more).
inline bool WaitUntil(const std::function<bool()>& reached, std::chrono::steady_clock::duration deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (!reached()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace sluice::test_support
