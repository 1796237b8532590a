// WorkerPool: the fixed set of threads that run RPC handlers.
//
// gRPC's callback API runs reactors on the library's own few threads; a
// handler that waits for an fsync there would stall every other call. So the
// reactor only hands its work to this pool and returns, and the pool's
// threads do the blocking part. The queue is bounded: a server that cannot
// keep up refuses work (RESOURCE_EXHAUSTED) instead of growing without limit.
//
// Thread-safe.
#ifndef LEADLEDGER_SERVICES_WORKER_POOL_H_
#define LEADLEDGER_SERVICES_WORKER_POOL_H_

#include <cstddef>
#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace leadledger::services {

class WorkerPool {
 public:
  // Starts `threads` (>= 1) threads; at most `max_queued` tasks wait.
  WorkerPool(int threads, size_t max_queued);
  // Runs every queued task, then joins the threads.
  ~WorkerPool();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; returns false (and drops it) when the queue is full or
  // the pool is stopping.
  [[nodiscard]] bool Schedule(absl::AnyInvocable<void() &&> task);

  int threads() const { return static_cast<int>(threads_.size()); }

 private:
  void Work();

  const size_t max_queued_;
  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace leadledger::services

#endif  // LEADLEDGER_SERVICES_WORKER_POOL_H_
