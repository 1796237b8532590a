// SubscriptionHub: the subscriptions of one event store.
//
// A subscription first reads the log from disk (catch-up). Once it has read
// everything up to the head, it registers as live under the hub's lock — only
// if no commit happened since its last read, so nothing falls in between —
// and from then on the writer hands it each committed group. A live
// subscriber whose buffer would exceed its limit is dropped back to catch-up
// reads from its cursor: appends never wait for subscribers, and a slow one
// holds at most `buffer_limit` buffered events.
//
// Thread-safe. Subscriptions must be destroyed before the hub.
#ifndef LEADLEDGER_EVENTSTORE_SUBSCRIPTION_HUB_H_
#define LEADLEDGER_EVENTSTORE_SUBSCRIPTION_HUB_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "eventstore/event_store.h"

namespace leadledger::eventstore {

class SubscriptionHub {
 public:
  // Reads committed events from `from_position` on, at most `max_count`.
  using LogReader = std::function<absl::StatusOr<std::vector<RecordedEvent>>(
      uint64_t from_position, int max_count)>;
  using EventBatch = std::shared_ptr<const std::vector<RecordedEvent>>;

  // `head` is the position of the last committed event.
  SubscriptionHub(LogReader reader, uint64_t head, size_t buffer_limit);
  ~SubscriptionHub();

  // Starts a subscription at `options.from_position` (> 0).
  std::unique_ptr<Subscription> Subscribe(const SubscribeOptions& options);

  // Whether any subscriber is live; when not, the writer need not build the
  // batch it would Publish.
  bool HasLiveSubscribers() const {
    return live_count_.load(std::memory_order_acquire) > 0;
  }

  // Records that every event up to `head` is committed and hands `events`
  // (the commit's events, in order; may be null when nobody is live) to the
  // live subscribers.
  void Publish(uint64_t head, EventBatch events);

  // Cancels every subscription (the store is closing).
  void CloseAll();

 private:
  class HubSubscription;

  // Registers `subscription` as live if nothing was committed after
  // `cursor - 1`; returns whether it did.
  bool TryGoLive(HubSubscription* subscription, uint64_t cursor);
  void Forget(HubSubscription* subscription);

  const LogReader reader_;
  const size_t buffer_limit_;

  absl::Mutex mu_;
  uint64_t head_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<HubSubscription*> all_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<HubSubscription*> live_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> live_count_{0};
};

}  // namespace leadledger::eventstore

#endif  // LEADLEDGER_EVENTSTORE_SUBSCRIPTION_HUB_H_
