#include "services/jittered_backoff.h"

#include <cstdint>

#include "absl/time/clock.h"

namespace leadledger::services {

void JitteredBackOff::Pause(int attempt) {
  absl::Duration pause;
  {
    absl::MutexLock lock(&mu_);
    pause = absl::Nanoseconds(absl::Uniform<int64_t>(
        random_, 0, absl::ToInt64Nanoseconds(step_ * attempt) + 1));
  }
  absl::SleepFor(pause);
}

}  // namespace leadledger::services
