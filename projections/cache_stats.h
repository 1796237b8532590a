// What a cache of ours has done and holds.
#ifndef LEADLEDGER_PROJECTIONS_CACHE_STATS_H_
#define LEADLEDGER_PROJECTIONS_CACHE_STATS_H_

#include <cstddef>
#include <cstdint>

namespace leadledger::projections {

struct CacheStats {
  // Lookups answered, and lookups sent elsewhere, since the cache was made.
  uint64_t hits = 0;
  uint64_t misses = 0;
  // What it holds now, and its estimate of their memory.
  size_t entries = 0;
  size_t bytes = 0;
  // The bound on `bytes` it was made with.
  size_t capacity_bytes = 0;
};

}  // namespace leadledger::projections

#endif  // LEADLEDGER_PROJECTIONS_CACHE_STATS_H_
