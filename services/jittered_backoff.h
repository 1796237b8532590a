// JitteredBackOff: the pause between attempts of an optimistic write.
//
// Writers that lost the same race would collide again if they retried at
// once; a random pause that grows with the attempt spreads them out.
// Thread-safe.
#ifndef LEADLEDGER_SERVICES_JITTERED_BACKOFF_H_
#define LEADLEDGER_SERVICES_JITTERED_BACKOFF_H_

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace leadledger::services {

class JitteredBackOff {
 public:
  explicit JitteredBackOff(absl::Duration step) : step_(step) {}

  JitteredBackOff(const JitteredBackOff&) = delete;
  JitteredBackOff& operator=(const JitteredBackOff&) = delete;

  // Sleeps before attempt `attempt` + 1: uniform in [0, attempt * step].
  void Pause(int attempt);

 private:
  const absl::Duration step_;
  absl::Mutex mu_;
  absl::BitGen random_ ABSL_GUARDED_BY(mu_);
};

}  // namespace leadledger::services

#endif  // LEADLEDGER_SERVICES_JITTERED_BACKOFF_H_
