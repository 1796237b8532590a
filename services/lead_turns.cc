#include "services/lead_turns.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"

namespace leadledger::services {
namespace {

struct Waiter {
  const uint64_t* serving;
  uint64_t ticket;
};

bool IsServed(Waiter* waiter) { return *waiter->serving == waiter->ticket; }

}  // namespace

LeadTurns::Turn::Turn(Turn&& other) noexcept
    : shard_(std::exchange(other.shard_, nullptr)),
      lead_id_(std::move(other.lead_id_)) {}

LeadTurns::Turn::~Turn() {
  if (shard_ == nullptr) return;
  absl::MutexLock lock(&shard_->mu);
  auto it = shard_->queues.find(lead_id_);
  ++it->second.serving;
  if (it->second.idle()) shard_->queues.erase(it);
}

std::shared_ptr<const LeadSnapshot> LeadTurns::Turn::StateAhead() const {
  absl::MutexLock lock(&shard_->mu);
  const Queue& queue = shard_->queues.find(lead_id_)->second;
  return queue.in_flight > 0 ? queue.ahead : nullptr;
}

void LeadTurns::Turn::AwaitSettled() {
  absl::MutexLock lock(&shard_->mu);
  const Queue* queue = &shard_->queues.find(lead_id_)->second;
  // The turn is held, so nothing new is queued for the lead meanwhile.
  shard_->mu.Await(absl::Condition(
      +[](const Queue* q) { return q->in_flight == 0; }, queue));
}

LeadTurns::InFlight::InFlight(InFlight&& other) noexcept
    : shard_(std::exchange(other.shard_, nullptr)),
      lead_id_(std::move(other.lead_id_)),
      state_(std::move(other.state_)) {}

LeadTurns::InFlight::~InFlight() { Settle(false); }

void LeadTurns::InFlight::Committed() { Settle(true); }

void LeadTurns::InFlight::Settle(bool committed) {
  if (shard_ == nullptr) return;
  absl::MutexLock lock(&shard_->mu);
  auto it = shard_->queues.find(lead_id_);
  Queue& queue = it->second;
  --queue.in_flight;
  // After a failure the appends queued on its state fail too; the next turn
  // decides on the stored lead. Once none is in flight, the stored lead is
  // the state ahead.
  if (!committed || queue.in_flight == 0) queue.ahead = nullptr;
  if (queue.idle()) shard_->queues.erase(it);
  shard_ = nullptr;
}

LeadTurns::InFlight LeadTurns::Pass(Turn turn,
                                    std::shared_ptr<const LeadSnapshot> state) {
  Shard* shard = std::exchange(turn.shard_, nullptr);
  absl::MutexLock lock(&shard->mu);
  Queue& queue = shard->queues.find(turn.lead_id_)->second;
  ++queue.in_flight;
  queue.ahead = state;
  ++queue.serving;  // in_flight > 0: the lead stays known
  return InFlight(shard, std::move(turn.lead_id_), std::move(state));
}

LeadTurns::Shard& LeadTurns::ShardOf(absl::string_view lead_id) {
  return shards_[absl::HashOf(lead_id) % kShards];
}

const LeadTurns::Shard& LeadTurns::ShardOf(absl::string_view lead_id) const {
  return shards_[absl::HashOf(lead_id) % kShards];
}

LeadTurns::Turn LeadTurns::Take(absl::string_view lead_id) {
  Shard& shard = ShardOf(lead_id);
  absl::MutexLock lock(&shard.mu);
  Queue& queue = shard.queues[lead_id];
  Waiter waiter{.serving = &queue.serving, .ticket = queue.next_ticket++};
  // Woken only when this ticket is the one served, not on every release.
  shard.mu.Await(absl::Condition(&IsServed, &waiter));
  return Turn(&shard, std::string(lead_id));
}

std::vector<LeadTurns::Turn> LeadTurns::TakeAll(
    std::vector<std::string> lead_ids) {
  std::sort(lead_ids.begin(), lead_ids.end());
  lead_ids.erase(std::unique(lead_ids.begin(), lead_ids.end()), lead_ids.end());
  std::vector<Turn> turns;
  turns.reserve(lead_ids.size());
  for (const std::string& lead_id : lead_ids) turns.push_back(Take(lead_id));
  return turns;
}

size_t LeadTurns::busy_leads() const {
  size_t busy = 0;
  for (const Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    busy += shard.queues.size();
  }
  return busy;
}

uint64_t LeadTurns::turns_queued(absl::string_view lead_id) const {
  const Shard& shard = ShardOf(lead_id);
  absl::MutexLock lock(&shard.mu);
  auto it = shard.queues.find(lead_id);
  if (it == shard.queues.end()) return 0;
  return it->second.next_ticket - it->second.serving;
}

}  // namespace leadledger::services
