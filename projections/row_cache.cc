#include "projections/row_cache.h"

#include <utility>

#include "absl/hash/hash.h"

namespace leadledger::projections {

RowCache::RowCache(size_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}

size_t RowCache::Charge(const Row& row) {
  // The node, its two strings and the index slot, roughly.
  return sizeof(Row) + 48 + row.key.size() + row.value.size();
}

RowCache::Shard& RowCache::ShardOf(absl::string_view key) {
  return shards_[absl::HashOf(key) % kShards];
}

void RowCache::Erase(Shard& shard, RowList::iterator row) {
  shard.bytes -= Charge(*row);
  shard.index.erase(absl::string_view(row->key));
  shard.rows.erase(row);
}

void RowCache::Evict(Shard& shard) {
  // From the least recently used end; `it` stays valid as rows before it go.
  auto it = shard.rows.end();
  while (shard.bytes > capacity_bytes_ / kShards && it != shard.rows.begin()) {
    const RowList::iterator row = std::prev(it);
    if (row->writers > 0) {
      it = row;
    } else {
      Erase(shard, row);
    }
  }
}

void RowCache::BeginWrite(absl::string_view key) {
  Shard& shard = ShardOf(key);
  absl::MutexLock lock(&shard.mu);
  auto found = shard.index.find(key);
  if (found == shard.index.end()) {
    shard.rows.push_front(Row{.key = std::string(key)});
    shard.bytes += Charge(shard.rows.front());
    found = shard.index
                .emplace(absl::string_view(shard.rows.front().key),
                         shard.rows.begin())
                .first;
  }
  Row& row = *found->second;
  if (row.writers > 0) row.overlapped = true;
  ++row.writers;
  row.known = false;
}

void RowCache::FinishWrite(absl::string_view key,
                           std::optional<std::string> value,
                           uint64_t sequence) {
  Shard& shard = ShardOf(key);
  absl::MutexLock lock(&shard.mu);
  auto found = shard.index.find(key);
  // Rows with writers announced are never evicted: it is there.
  if (found == shard.index.end()) return;
  const RowList::iterator row = found->second;
  if (--row->writers > 0) return;
  if (row->overlapped || !value.has_value()) {
    Erase(shard, row);
    return;
  }
  shard.bytes -= Charge(*row);
  row->value = *std::move(value);
  row->known = true;
  row->sequence = sequence;
  shard.bytes += Charge(*row);
  shard.rows.splice(shard.rows.begin(), shard.rows, row);
  Evict(shard);
}

bool RowCache::Lookup(absl::string_view key, uint64_t sequence,
                      std::string* value) {
  if (suspended_.load(std::memory_order_acquire) > 0) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  Shard& shard = ShardOf(key);
  {
    absl::MutexLock lock(&shard.mu);
    auto found = shard.index.find(key);
    if (found != shard.index.end() && found->second->known &&
        found->second->sequence <= sequence) {
      *value = found->second->value;
      shard.rows.splice(shard.rows.begin(), shard.rows, found->second);
      hits_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void RowCache::Suspend() { suspended_.fetch_add(1, std::memory_order_acq_rel); }

void RowCache::Resume() {
  for (Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    for (auto it = shard.rows.begin(); it != shard.rows.end();) {
      const RowList::iterator row = it++;
      if (row->writers > 0) {
        // Its writer's value may predate what was ingested.
        row->overlapped = true;
      } else {
        Erase(shard, row);
      }
    }
  }
  suspended_.fetch_sub(1, std::memory_order_acq_rel);
}

RowCache::Stats RowCache::GetStats() {
  Stats stats{.hits = hits_.load(std::memory_order_relaxed),
              .misses = misses_.load(std::memory_order_relaxed),
              .capacity_bytes = capacity_bytes_};
  for (Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    stats.entries += shard.rows.size();
    stats.bytes += shard.bytes;
  }
  return stats;
}

}  // namespace leadledger::projections
