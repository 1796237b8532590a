#include "eventstore/subscription_hub.h"

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace leadledger::eventstore {
namespace {

// Events read from disk per catch-up round.
constexpr int kCatchUpBatch = 1000;

}  // namespace

class SubscriptionHub::HubSubscription final : public Subscription {
 public:
  HubSubscription(SubscriptionHub* hub, const SubscribeOptions& options)
      : hub_(hub),
        cursor_(options.from_position),
        types_(options.types.begin(), options.types.end()) {}

  ~HubSubscription() override { hub_->Forget(this); }

  absl::StatusOr<std::vector<RecordedEvent>> Next(
      absl::Time deadline) override {
    std::vector<RecordedEvent> delivered;
    while (delivered.empty()) {
      if (!live_) {
        {
          absl::MutexLock lock(&hub_->mu_);
          if (cancelled_) return Cancelled();
        }
        absl::StatusOr<std::vector<RecordedEvent>> read =
            hub_->reader_(cursor_, kCatchUpBatch);
        if (!read.ok()) return read.status();
        if (!read->empty()) {
          for (RecordedEvent& event : *read)
            Deliver(std::move(event), delivered);
          continue;
        }
        // Read everything up to the head as of the read: go live, unless a
        // commit slipped in since, which the next round reads from disk.
        if (!hub_->TryGoLive(this, cursor_)) continue;
        live_ = true;
      }

      std::deque<EventBatch> batches;
      bool overflowed = false;
      {
        absl::MutexLock lock(&hub_->mu_);
        auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(hub_->mu_) {
          return !batches_.empty() || overflowed_ || cancelled_;
        };
        hub_->mu_.AwaitWithDeadline(absl::Condition(&ready), deadline);
        if (cancelled_) return Cancelled();
        batches.swap(batches_);
        buffered_ = 0;
        overflowed = overflowed_;
        overflowed_ = false;
      }
      for (const EventBatch& batch : batches) {
        for (const RecordedEvent& event : *batch) {
          // Every event of a batch published after going live follows the
          // cursor; anything else is a broken invariant, not skippable.
          if (event.position < cursor_) continue;
          if (event.position != cursor_) {
            return absl::InternalError(
                absl::StrCat("subscription expected position ", cursor_,
                             ", got ", event.position));
          }
          Deliver(event, delivered);
        }
      }
      // The hub dropped us from the live set: read the rest from disk.
      if (overflowed) live_ = false;
      if (delivered.empty() && batches.empty() && !overflowed &&
          absl::Now() >= deadline) {
        break;
      }
    }
    return delivered;
  }

  void Cancel() override {
    absl::MutexLock lock(&hub_->mu_);
    cancelled_ = true;
    if (hub_->live_.erase(this) > 0) hub_->live_count_.fetch_sub(1);
  }

 private:
  friend class SubscriptionHub;

  static absl::Status Cancelled() {
    return absl::CancelledError("subscription cancelled");
  }

  // Advances the cursor past `event` and keeps it if it passes the filter.
  void Deliver(RecordedEvent event, std::vector<RecordedEvent>& delivered) {
    cursor_ = event.position + 1;
    if (types_.empty() || types_.contains(event.type)) {
      delivered.push_back(std::move(event));
    }
  }

  SubscriptionHub* const hub_;
  // Owned by the subscriber's thread.
  uint64_t cursor_;
  const absl::flat_hash_set<std::string> types_;
  bool live_ = false;

  // Shared with the writer, under hub_->mu_.
  std::deque<EventBatch> batches_;
  size_t buffered_ = 0;
  bool overflowed_ = false;
  bool cancelled_ = false;
};

SubscriptionHub::SubscriptionHub(LogReader reader, uint64_t head,
                                 size_t buffer_limit)
    : reader_(std::move(reader)), buffer_limit_(buffer_limit), head_(head) {}

SubscriptionHub::~SubscriptionHub() { CloseAll(); }

std::unique_ptr<Subscription> SubscriptionHub::Subscribe(
    const SubscribeOptions& options) {
  auto subscription = std::make_unique<HubSubscription>(this, options);
  absl::MutexLock lock(&mu_);
  all_.insert(subscription.get());
  if (closed_) subscription->cancelled_ = true;
  return subscription;
}

bool SubscriptionHub::TryGoLive(HubSubscription* subscription,
                                uint64_t cursor) {
  absl::MutexLock lock(&mu_);
  // A cursor past head_ + 1 (a subscription from a future position) goes
  // live too: the live batches before it are skipped, not missed.
  if (subscription->cancelled_ || head_ >= cursor) return false;
  subscription->overflowed_ = false;
  subscription->buffered_ = 0;
  if (live_.insert(subscription).second) live_count_.fetch_add(1);
  return true;
}

void SubscriptionHub::Forget(HubSubscription* subscription) {
  absl::MutexLock lock(&mu_);
  if (live_.erase(subscription) > 0) live_count_.fetch_sub(1);
  all_.erase(subscription);
}

void SubscriptionHub::Publish(uint64_t head, EventBatch events) {
  absl::MutexLock lock(&mu_);
  head_ = head;
  if (events == nullptr || events->empty()) {
    // Nobody was live when the writer looked; anyone who went live since
    // sees the new head and catches up from disk.
    std::vector<HubSubscription*> stale(live_.begin(), live_.end());
    for (HubSubscription* subscription : stale) {
      subscription->overflowed_ = true;
      live_.erase(subscription);
      live_count_.fetch_sub(1);
    }
    return;
  }
  std::vector<HubSubscription*> dropped;
  for (HubSubscription* subscription : live_) {
    if (subscription->buffered_ + events->size() > buffer_limit_) {
      subscription->overflowed_ = true;
      dropped.push_back(subscription);
    } else {
      subscription->batches_.push_back(events);
      subscription->buffered_ += events->size();
    }
  }
  for (HubSubscription* subscription : dropped) {
    live_.erase(subscription);
    live_count_.fetch_sub(1);
  }
}

void SubscriptionHub::CloseAll() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  for (HubSubscription* subscription : all_) subscription->cancelled_ = true;
  live_count_.fetch_sub(static_cast<int>(live_.size()));
  live_.clear();
}

}  // namespace leadledger::eventstore
