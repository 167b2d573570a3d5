#include "notify/notifier.hpp"

#include <algorithm>

namespace sluice::notify {

const char* RunEventKey(RunEvent event) {
  switch (event) {
    case RunEvent::kSuccess: return "on_success";
    case RunEvent::kFailure: return "on_failure";
    case RunEvent::kRetriesExhausted: return "on_retries_exhausted";
  }
  return "on_failure";
}

}  // namespace sluice::notify
