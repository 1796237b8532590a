#include "projections/decoded_lead_cache.h"

#include <utility>

#include "absl/hash/hash.h"
#include "domain/status_macros.h"

namespace leadledger::projections {

absl::StatusOr<std::shared_ptr<const StoredLead>> DecodeSharedLeadRow(
    absl::string_view row) {
  auto lead = std::make_shared<StoredLead>();
  RETURN_IF_ERROR(DecodeLeadRow(row, *lead));
  return lead;
}

DecodedLeadCache::DecodedLeadCache(size_t capacity_bytes)
    : capacity_bytes_(capacity_bytes) {}

size_t DecodedLeadCache::Charge(absl::string_view lead_id, const Entry& entry) {
  // The row twice (kept, and about as much again in the lead's strings), the
  // lead, the key and the map's slot with its control block, roughly.
  return sizeof(Entry) + sizeof(StoredLead) + 64 + lead_id.size() +
         2 * entry.row.size();
}

DecodedLeadCache::Shard& DecodedLeadCache::ShardOf(absl::string_view lead_id) {
  return shards_[absl::HashOf(lead_id) % kShards];
}

void DecodedLeadCache::Keep(Shard& shard, absl::string_view lead_id,
                            Entry entry) {
  const size_t charge = Charge(lead_id, entry);
  const size_t generation_capacity = capacity_bytes_ / kShards / 2;
  if (charge > generation_capacity) return;
  if (shard.young.bytes + charge > generation_capacity) {
    shard.old = std::move(shard.young);
    shard.young = Generation();
  }
  auto [it, inserted] = shard.young.entries.try_emplace(lead_id);
  if (!inserted) shard.young.bytes -= Charge(lead_id, it->second);
  it->second = std::move(entry);
  shard.young.bytes += charge;
}

absl::StatusOr<std::shared_ptr<const StoredLead>> DecodedLeadCache::Decode(
    absl::string_view lead_id, std::string row) {
  Shard& shard = ShardOf(lead_id);
  {
    absl::MutexLock lock(&shard.mu);
    if (auto it = shard.young.entries.find(lead_id);
        it != shard.young.entries.end() && it->second.row == row) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      return it->second.lead;
    }
    if (auto it = shard.old.entries.find(lead_id);
        it != shard.old.entries.end() && it->second.row == row) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      // Read again in this generation: it moves to the young one.
      Entry entry = std::move(it->second);
      shard.old.bytes -= Charge(lead_id, entry);
      shard.old.entries.erase(it);
      std::shared_ptr<const StoredLead> lead = entry.lead;
      Keep(shard, lead_id, std::move(entry));
      return lead;
    }
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  // Decoded outside the lock: readers of other leads of the shard go on.
  ASSIGN_OR_RETURN(std::shared_ptr<const StoredLead> lead,
                   DecodeSharedLeadRow(row));
  absl::MutexLock lock(&shard.mu);
  if (auto it = shard.old.entries.find(lead_id);
      it != shard.old.entries.end()) {
    // Bytes of an older row: they will not be read again.
    shard.old.bytes -= Charge(lead_id, it->second);
    shard.old.entries.erase(it);
  }
  Keep(shard, lead_id, Entry{.row = std::move(row), .lead = lead});
  return lead;
}

DecodedLeadCache::Stats DecodedLeadCache::GetStats() {
  Stats stats{.hits = hits_.load(std::memory_order_relaxed),
              .misses = misses_.load(std::memory_order_relaxed),
              .capacity_bytes = capacity_bytes_};
  for (Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    stats.entries += shard.young.entries.size() + shard.old.entries.size();
    stats.bytes += shard.young.bytes + shard.old.bytes;
  }
  return stats;
}

}  // namespace leadledger::projections
