// DecodedLeadCache: lead rows decoded once, shared by the queries that read
// the same bytes again.
//
// A page of fifty leads used to decode fifty rows (a protobuf parse, then the
// domain lead), about two thirds of what the page cost, while the same hot
// leads come back page after page. The cache keeps, per lead id, the row
// bytes it decoded and the lead it decoded them into. A reader hands it the
// bytes it read at its own snapshot; the cache answers with its lead only
// when those bytes are the ones it decoded, so its answers are always the
// decoding of what the reader read, whatever the keyspace, snapshot or
// rebuild, and nothing has to tell it about writes.
//
// Bounded by `capacity_bytes` (an estimate of what entries hold): entries
// live in two generations; new and reused ones go to the young one, and once
// the young generation holds half the capacity the old one is dropped and
// the young one becomes old. A lead read at least once per generation stays.
// Thread-safe.
#ifndef LEADLEDGER_PROJECTIONS_DECODED_LEAD_CACHE_H_
#define LEADLEDGER_PROJECTIONS_DECODED_LEAD_CACHE_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "projections/cache_stats.h"
#include "projections/event_codec.h"

namespace leadledger::projections {

// The lead in `row`, decoded now into a lead readers can share: what
// DecodedLeadCache::Decode does on a miss, and readers without a cache do
// for every row.
// Errors: DATA_LOSS for bytes DecodeLeadRow refuses.
[[nodiscard]] absl::StatusOr<std::shared_ptr<const StoredLead>>
DecodeSharedLeadRow(absl::string_view row);

class DecodedLeadCache {
 public:
  explicit DecodedLeadCache(size_t capacity_bytes);
  DecodedLeadCache(const DecodedLeadCache&) = delete;
  DecodedLeadCache& operator=(const DecodedLeadCache&) = delete;

  // The lead in `row`, the bytes just read as lead `lead_id`'s row: the one
  // decoded before from equal bytes when the cache holds it, else decoded now
  // and kept.
  // Errors: DATA_LOSS for bytes DecodeLeadRow refuses (never kept).
  [[nodiscard]] absl::StatusOr<std::shared_ptr<const StoredLead>> Decode(
      absl::string_view lead_id, std::string row);

  using Stats = CacheStats;
  Stats GetStats();

 private:
  struct Entry {
    std::string row;
    std::shared_ptr<const StoredLead> lead;
  };
  struct Generation {
    absl::flat_hash_map<std::string, Entry> entries;
    size_t bytes = 0;
  };
  struct Shard {
    absl::Mutex mu;
    Generation young ABSL_GUARDED_BY(mu);
    Generation old ABSL_GUARDED_BY(mu);
  };
  static constexpr size_t kShards = 16;

  static size_t Charge(absl::string_view lead_id, const Entry& entry);
  Shard& ShardOf(absl::string_view lead_id);
  // Puts `entry` in `shard`'s young generation, turning generations over
  // when it is full.
  void Keep(Shard& shard, absl::string_view lead_id, Entry entry)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);

  const size_t capacity_bytes_;
  std::array<Shard, kShards> shards_;
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace leadledger::projections

#endif  // LEADLEDGER_PROJECTIONS_DECODED_LEAD_CACHE_H_
