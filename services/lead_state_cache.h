// LeadStateCache: leads as folded from their streams, kept between commands.
//
// A lead's stream is append-only, so the state folded up to version N never
// goes stale: it stays the state at version N, and the state at a later
// version is that snapshot folded with the events after N. Without it every
// command would fold the whole stream of its lead, and a busy lead's stream
// only grows.
//
// A lead keeps up to kSnapshotsPerLead snapshots: the command path wants the
// latest version of a lead, while a request answered as of its own append,
// or the follow-up scheduler meeting a lead it has not folded itself, wants
// an earlier one, which the commands have usually moved past. Each of them
// folds forward from its own snapshot and stores the result in its place, so
// the two keep a snapshot each however busy the lead is. Leads beyond
// `max_leads` are dropped, least recently used first.
//
// Holds states folded from stored events, and states commands decided into
// once their events are stored: the codec round-trips events exactly, so
// either is what a fold from scratch returns (the handler's tests compare
// them).
//
// Thread-safe; sharded by lead id so that concurrent commands on different
// leads rarely wait for each other.
#ifndef LEADLEDGER_SERVICES_LEAD_STATE_CACHE_H_
#define LEADLEDGER_SERVICES_LEAD_STATE_CACHE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "domain/lead.h"

namespace leadledger::services {

// A lead as of one version of its stream.
struct LeadSnapshot {
  domain::Lead lead;
  // Stream version of the lead's last event: the lead's etag.
  int64_t version = -1;
  // Global position of that event: a consistency token.
  uint64_t log_position = 0;
};

class LeadStateCache {
 public:
  static constexpr size_t kSnapshotsPerLead = 2;

  // `max_leads` 0 disables the cache: Find never finds anything.
  explicit LeadStateCache(size_t max_leads);

  LeadStateCache(const LeadStateCache&) = delete;
  LeadStateCache& operator=(const LeadStateCache&) = delete;

  // The snapshot of lead `lead_id` with the highest version not above
  // `max_version`; nullptr when none is kept.
  std::shared_ptr<const LeadSnapshot> Find(absl::string_view lead_id,
                                           int64_t max_version);

  // Keeps `snapshot` as lead `lead_id`'s, in place of the snapshot at
  // version `folded_from` (the one it was folded from, if still kept), else
  // of the newest one below it, else of the least recently used one.
  void Store(absl::string_view lead_id,
             std::shared_ptr<const LeadSnapshot> snapshot,
             int64_t folded_from = -1);

  // Leads with at least one snapshot kept.
  size_t size();

 private:
  static constexpr size_t kShards = 16;

  struct Entry {
    // Most recently used first; empty slots last.
    std::array<std::shared_ptr<const LeadSnapshot>, kSnapshotsPerLead>
        snapshots;
    // Position of the lead in its shard's recency list.
    std::list<std::string>::iterator recency;
  };

  struct Shard {
    absl::Mutex mu;
    absl::flat_hash_map<std::string, Entry> leads ABSL_GUARDED_BY(mu);
    // Lead ids, most recently used first.
    std::list<std::string> recency ABSL_GUARDED_BY(mu);
  };

  Shard& ShardOf(absl::string_view lead_id);

  const size_t max_leads_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace leadledger::services

#endif  // LEADLEDGER_SERVICES_LEAD_STATE_CACHE_H_
