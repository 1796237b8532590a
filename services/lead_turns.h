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
// A turn can end before its append is durable: once the append is queued in
// the store (EventStore::AppendInOrder), Pass hands the state it will leave
// to the next turn, which decides on that state and queues behind it. The
// commands of a busy lead then share group commits instead of waiting for an
// fsync each. If a queued append fails, every append queued on its state
// fails its version check too, and their commands decide again on the
// stored lead.
//
// A state ahead is checked by the store only by its version, so every
// writer of a lead's stream in the process must take its turn (they all go
// through LeadCommandHandler, and the store's directory is locked to one
// process): an append from outside the turns could land between a failed
// append and one decided on its state, at the version that one expects.
//
// Turns are first come, first served; leads nobody is waiting for and with
// nothing in flight take no memory. Thread-safe.
#ifndef LEADLEDGER_SERVICES_LEAD_TURNS_H_
#define LEADLEDGER_SERVICES_LEAD_TURNS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "services/lead_state_cache.h"

namespace leadledger::services {

class LeadTurns {
 private:
  struct Shard;
  struct Queue;

 public:
  // The right to change one lead, held until destroyed or passed on.
  class Turn {
   public:
    Turn(Turn&& other) noexcept;
    Turn& operator=(Turn&&) = delete;
    Turn(const Turn&) = delete;
    Turn& operator=(const Turn&) = delete;
    ~Turn();

    // The state the lead's queued appends will leave it in; null when none
    // is in flight, and the stored lead is the one to decide on.
    std::shared_ptr<const LeadSnapshot> StateAhead() const;

    // Waits until no append of the lead is in flight. An answer that is not
    // an append (a refusal, a no-op) must hold for the stored lead, not for
    // a state that queued appends may still fail to write.
    void AwaitSettled();

   private:
    friend class LeadTurns;
    Turn(Shard* shard, std::string lead_id)
        : shard_(shard), lead_id_(std::move(lead_id)) {}

    Shard* shard_;
    std::string lead_id_;
  };

  // An append queued by a passed turn, until its outcome is known. Destroyed
  // without Committed(), it counts as failed.
  class InFlight {
   public:
    InFlight(InFlight&& other) noexcept;
    InFlight& operator=(InFlight&&) = delete;
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;
    ~InFlight();

    // The append is durable (and the state it left is where readers find
    // it).
    void Committed();

   private:
    friend class LeadTurns;
    InFlight(Shard* shard, std::string lead_id,
             std::shared_ptr<const LeadSnapshot> state)
        : shard_(shard),
          lead_id_(std::move(lead_id)),
          state_(std::move(state)) {}
    void Settle(bool committed);

    Shard* shard_;
    std::string lead_id_;
    std::shared_ptr<const LeadSnapshot> state_;
  };

  LeadTurns() = default;
  LeadTurns(const LeadTurns&) = delete;
  LeadTurns& operator=(const LeadTurns&) = delete;

  // Waits until every earlier turn on `lead_id` has ended.
  [[nodiscard]] Turn Take(absl::string_view lead_id);

  // Takes a turn on each distinct lead of `lead_ids`, always in sorted order,
  // so that two callers naming the same leads cannot wait for each other.
  [[nodiscard]] std::vector<Turn> TakeAll(std::vector<std::string> lead_ids);

  // Ends `turn` once its append is queued in the store: the next turn
  // decides on `state`, the lead as that append will leave it.
  [[nodiscard]] InFlight Pass(Turn turn,
                              std::shared_ptr<const LeadSnapshot> state);

  // Leads with a turn held or awaited, or an append in flight.
  size_t busy_leads() const;

  // Turns held or awaited on `lead_id`.
  uint64_t turns_queued(absl::string_view lead_id) const;

 private:
  struct Queue {
    uint64_t next_ticket = 0;
    uint64_t serving = 0;
    // Appends queued by passed turns and not yet answered.
    int in_flight = 0;
    // The state the last of them leaves; null after one failed.
    std::shared_ptr<const LeadSnapshot> ahead;

    bool idle() const { return serving == next_ticket && in_flight == 0; }
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
