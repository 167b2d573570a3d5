#pragma once
// Named fault points: places in the data path where a test can make the process die, fail or
// wait, so crash and concurrency tests are deterministic instead of racing a sleep.
//
// Switched on only by the environment, read once at first use:
//   SLUICE_FAULTPOINT="name[@N]:action[,name[@N]:action...]"
//     action  kill   SIGKILL this process (a crash: no destructors, no flush)
//             error  the point returns an IoError (a failure the code must handle)
//             pause  create <dir>/<name>.reached, then wait until <dir>/<name>.release exists
//             throw  throw std::runtime_error (code that fails to catch at a thread boundary ends the process)
//             pause_each  the same with <name>.<hit>.reached / <name>.<hit>.release: one release
//                         per hit, for holding each pass of a loop (a retried job) in turn
//     @N      act on the N-th hit only (1-based); without it, on every hit
//   SLUICE_FAULTPOINT_DIR  the folder for pause's marker files (required for pause)
//
// When the variable is unset a point costs one relaxed atomic load.

#include <string_view>

#include "common/status.hpp"

namespace sluice::fault {

namespace internal {
bool Enabled();
Status HitSlow(std::string_view name);
}  // namespace internal

/// Reaches the fault point `name`: OK unless a test switched it on.
[[nodiscard]] inline Status Hit(std::string_view name) {
  if (!internal::Enabled()) return Status::OK();
  return internal::HitSlow(name);
}

/// Parses a SLUICE_FAULTPOINT value; exposed for tests and for a clear error at start-up.
Status Validate(std::string_view spec);

/// Resets the parsed state so a unit test can set the environment and read it again.
void ResetForTesting();

}  // namespace sluice::fault

/// Returns the injected error from the enclosing function when the point is set to `error`.
#define SLUICE_FAULT_POINT(name) SLUICE_TRY(::sluice::fault::Hit(name))
