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
  Queue& queue = it->second;
  ++queue.serving;
  // Nobody holds a ticket past this one: forget the lead.
  if (queue.serving == queue.next_ticket) shard_->queues.erase(it);
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
