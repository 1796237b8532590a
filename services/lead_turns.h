// LeadTurns: commands on one lead take turns, in the order they arrive.
//
// The event store already refuses an append decided on a stale state, and
// the command handler then decides again. That is all correctness needs, but
// on a busy lead the writers of one group commit all decide on the same
// state, one wins, and the others fold, decide and wait for an fsync again,
// until some run out of attempts. Taking turns in the process makes each
// command decide on the state its predecessor left, so the stale-state check
// is only ever hit by writers outside this process.
//
// Turns are first come, first served; leads nobody is waiting for take no
// memory. Thread-safe.
#ifndef LEADLEDGER_SERVICES_LEAD_TURNS_H_
#define LEADLEDGER_SERVICES_LEAD_TURNS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace leadledger::services {

class LeadTurns {
 private:
  struct Shard;
  struct Queue;

 public:
  // The right to change one lead, held until destroyed.
  class Turn {
   public:
    Turn(Turn&& other) noexcept;
    Turn& operator=(Turn&&) = delete;
    Turn(const Turn&) = delete;
    Turn& operator=(const Turn&) = delete;
    ~Turn();

   private:
    friend class LeadTurns;
    Turn(Shard* shard, std::string lead_id)
        : shard_(shard), lead_id_(std::move(lead_id)) {}

    Shard* shard_;
    std::string lead_id_;
  };

  LeadTurns() = default;
  LeadTurns(const LeadTurns&) = delete;
  LeadTurns& operator=(const LeadTurns&) = delete;

  // Waits until every earlier turn on `lead_id` has ended.
  [[nodiscard]] Turn Take(absl::string_view lead_id);

  // Takes a turn on each distinct lead of `lead_ids`, always in sorted order,
  // so that two callers naming the same leads cannot wait for each other.
  [[nodiscard]] std::vector<Turn> TakeAll(std::vector<std::string> lead_ids);

  // Leads with a turn held or awaited.
  size_t busy_leads() const;

  // Turns held or awaited on `lead_id`.
  uint64_t turns_queued(absl::string_view lead_id) const;

 private:
  struct Queue {
    uint64_t next_ticket = 0;
    uint64_t serving = 0;
  };
  struct Shard {
    mutable absl::Mutex mu;
    // Node-based: a waiter keeps a pointer to its queue while others are
    // inserted.
    absl::node_hash_map<std::string, Queue> queues ABSL_GUARDED_BY(mu);
  };
  static constexpr size_t kShards = 16;

  Shard& ShardOf(absl::string_view lead_id);
  const Shard& ShardOf(absl::string_view lead_id) const;

  std::array<Shard, kShards> shards_;
};

}  // namespace leadledger::services

#endif  // LEADLEDGER_SERVICES_LEAD_TURNS_H_
