#include "services/lead_state_cache.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"

namespace leadledger::services {

LeadStateCache::LeadStateCache(size_t max_leads)
    : max_leads_per_shard_(
          max_leads == 0 ? 0 : std::max<size_t>(1, max_leads / kShards)) {}

LeadStateCache::Shard& LeadStateCache::ShardOf(absl::string_view lead_id) {
  return shards_[absl::HashOf(lead_id) % kShards];
}

std::shared_ptr<const LeadSnapshot> LeadStateCache::Find(
    absl::string_view lead_id, int64_t max_version) {
  if (max_leads_per_shard_ == 0) return nullptr;
  Shard& shard = ShardOf(lead_id);
  absl::MutexLock lock(&shard.mu);
  auto it = shard.leads.find(lead_id);
  if (it == shard.leads.end()) return nullptr;
  Entry& entry = it->second;
  size_t best = kSnapshotsPerLead;
  for (size_t i = 0; i < kSnapshotsPerLead; ++i) {
    const auto& snapshot = entry.snapshots[i];
    if (snapshot == nullptr || snapshot->version > max_version) continue;
    if (best == kSnapshotsPerLead ||
        snapshot->version > entry.snapshots[best]->version) {
      best = i;
    }
  }
  if (best == kSnapshotsPerLead) return nullptr;
  // The one found becomes the most recently used of the lead, and the lead
  // the most recently used of the shard.
  std::rotate(entry.snapshots.begin(), entry.snapshots.begin() + best,
              entry.snapshots.begin() + best + 1);
  shard.recency.splice(shard.recency.begin(), shard.recency, entry.recency);
  return entry.snapshots.front();
}

void LeadStateCache::Store(absl::string_view lead_id,
                           std::shared_ptr<const LeadSnapshot> snapshot,
                           int64_t folded_from) {
  if (max_leads_per_shard_ == 0 || snapshot == nullptr) return;
  Shard& shard = ShardOf(lead_id);
  absl::MutexLock lock(&shard.mu);
  auto it = shard.leads.find(lead_id);
  if (it == shard.leads.end()) {
    if (shard.leads.size() >= max_leads_per_shard_) {
      shard.leads.erase(shard.recency.back());
      shard.recency.pop_back();
    }
    shard.recency.emplace_front(lead_id);
    it = shard.leads.emplace(lead_id, Entry{.recency = shard.recency.begin()})
             .first;
  } else {
    shard.recency.splice(shard.recency.begin(), shard.recency,
                         it->second.recency);
  }
  auto& snapshots = it->second.snapshots;
  // The same version again replaces its slot, then the snapshot it was
  // folded from, then an empty slot, then the newest snapshot below it (a
  // command decided on a state still being written was folded from none
  // kept, and it supersedes the commands' snapshot, not the scheduler's
  // older one); otherwise the least recently used slot (the last) goes.
  auto find = [&](auto matches) {
    for (size_t i = 0; i < kSnapshotsPerLead; ++i) {
      if (matches(snapshots[i])) return i;
    }
    return kSnapshotsPerLead;
  };
  size_t slot = find([&](const auto& kept) {
    return kept != nullptr && kept->version == snapshot->version;
  });
  if (slot == kSnapshotsPerLead && folded_from >= 0) {
    slot = find([&](const auto& kept) {
      return kept != nullptr && kept->version == folded_from;
    });
  }
  if (slot == kSnapshotsPerLead) {
    slot = find([](const auto& kept) { return kept == nullptr; });
  }
  if (slot == kSnapshotsPerLead) {
    for (size_t i = 0; i < kSnapshotsPerLead; ++i) {
      if (snapshots[i]->version < snapshot->version &&
          (slot == kSnapshotsPerLead ||
           snapshots[i]->version > snapshots[slot]->version)) {
        slot = i;
      }
    }
  }
  if (slot == kSnapshotsPerLead) slot = kSnapshotsPerLead - 1;
  snapshots[slot] = std::move(snapshot);
  std::rotate(snapshots.begin(), snapshots.begin() + slot,
              snapshots.begin() + slot + 1);
}

size_t LeadStateCache::size() {
  size_t total = 0;
  for (Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    total += shard.leads.size();
  }
  return total;
}

}  // namespace leadledger::services
