// CallTracker: counts the RPCs in flight so that shutdown can wait for them
// (and only for them).
//
// grpc::Server::Shutdown(deadline) waits not only for calls but for every
// client connection to close, so a client that merely keeps a channel open
// would hold a shutdown for the whole grace period. Instead the server drains
// here: new calls are refused, calls in flight get until the deadline, then
// the gRPC server is shut down at once.
//
// Thread-safe.
#ifndef LEADLEDGER_SERVICES_CALL_TRACKER_H_
#define LEADLEDGER_SERVICES_CALL_TRACKER_H_

#include <cstdint>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace leadledger::services {

class CallTracker {
 public:
  // Marks one call in flight for its lifetime. Movable, not copyable.
  class Scope {
   public:
    Scope(Scope&& other) noexcept : tracker_(other.tracker_) {
      other.tracker_ = nullptr;
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    Scope& operator=(Scope&&) = delete;
    ~Scope() {
      if (tracker_ != nullptr) tracker_->Leave();
    }

   private:
    friend class CallTracker;
    explicit Scope(CallTracker* tracker) : tracker_(tracker) {}
    CallTracker* tracker_;
  };

  // Returns the scope of a new call, or nullopt once draining has begun.
  [[nodiscard]] std::optional<Scope> Enter() {
    absl::MutexLock lock(&mu_);
    if (draining_) return std::nullopt;
    ++in_flight_;
    return Scope(this);
  }

  // Refuses new calls from now on and waits until none is in flight or
  // `deadline` passes. Returns the number still in flight.
  int64_t DrainUntil(absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    draining_ = true;
    auto idle = [this]()
                    ABSL_SHARED_LOCKS_REQUIRED(mu_) { return in_flight_ == 0; };
    mu_.AwaitWithDeadline(absl::Condition(&idle), deadline);
    return in_flight_;
  }

 private:
  void Leave() {
    absl::MutexLock lock(&mu_);
    --in_flight_;
  }

  absl::Mutex mu_;
  int64_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace leadledger::services

#endif  // LEADLEDGER_SERVICES_CALL_TRACKER_H_
