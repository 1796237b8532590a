// RowCache: the last committed value of a keyspace's rows that queries read
// one key at a time (a lead's row, a task's row), kept by the commits that
// write them.
//
// Under a write load those rows sit in the memtables among every older
// version of themselves and every index entry written since, and finding one
// there is a skiplist search of a few microseconds; a page of fifty leads
// paid for fifty of them. The cache answers from a hash map instead.
//
// Its answers are those of the store at a reader's snapshot, never newer:
// - A commit announces the cached keys it writes (BeginWrite) before the
//   store applies it, and gives their values with the store's sequence
//   number once it has (FinishWrite). While a write is announced, readers
//   are sent to the store.
// - An entry answers a reader whose snapshot is at or after the sequence
//   number it was written at. A reader whose snapshot sees a write took
//   that snapshot after the store applied it, hence after it was announced,
//   and finds the entry announced or finished.
// - Writes of one key that overlap (two commits announced at once) leave no
//   entry: which one the store applied last is not known here.
// - Rows are only added by commits, never by reads: what a reader found at
//   its snapshot may already be overwritten.
// A row deleted, or written by a path that does not announce it (a bulk
// ingestion, see Suspend), has no entry; the store answers for it.
//
// Bounded by `capacity_bytes`: the least recently used rows go first (never
// one whose write is announced). Thread-safe.
#ifndef LEADLEDGER_PROJECTIONS_ROW_CACHE_H_
#define LEADLEDGER_PROJECTIONS_ROW_CACHE_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "projections/cache_stats.h"

namespace leadledger::projections {

class RowCache {
 public:
  explicit RowCache(size_t capacity_bytes);
  RowCache(const RowCache&) = delete;
  RowCache& operator=(const RowCache&) = delete;

  // Announces a write of `key`; each BeginWrite needs its FinishWrite.
  void BeginWrite(absl::string_view key);
  // Ends the write BeginWrite announced. `value` is what the store now
  // holds at `key`, written at or before `sequence`; nullopt for a delete,
  // or a write the store failed to apply.
  void FinishWrite(absl::string_view key, std::optional<std::string> value,
                   uint64_t sequence);

  // The row at `key` as a reader whose snapshot is at `sequence` would
  // read it; false when the store must answer.
  bool Lookup(absl::string_view key, uint64_t sequence, std::string* value);

  // Around writes that bypass BeginWrite (a bulk ingestion): Suspend sends
  // every reader to the store, Resume forgets every row and answers again.
  void Suspend();
  void Resume();

  using Stats = CacheStats;
  Stats GetStats();

 private:
  struct Row {
    std::string key;
    std::string value;
    // Whether `value` is the store's (no write announced since).
    bool known = false;
    uint64_t sequence = 0;
    // Writes announced and not finished.
    int writers = 0;
    // Whether announced writes overlapped since `writers` was last zero.
    bool overlapped = false;
  };
  using RowList = std::list<Row>;

  struct Shard {
    absl::Mutex mu;
    // Most recently used first.
    RowList rows ABSL_GUARDED_BY(mu);
    // Views of the keys in `rows`.
    absl::flat_hash_map<absl::string_view, RowList::iterator> index
        ABSL_GUARDED_BY(mu);
    size_t bytes ABSL_GUARDED_BY(mu) = 0;
  };
  static constexpr size_t kShards = 16;

  static size_t Charge(const Row& row);
  Shard& ShardOf(absl::string_view key);
  void Erase(Shard& shard, RowList::iterator row)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  void Evict(Shard& shard) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);

  const size_t capacity_bytes_;
  std::array<Shard, kShards> shards_;
  std::atomic<int> suspended_{0};
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace leadledger::projections

#endif  // LEADLEDGER_PROJECTIONS_ROW_CACHE_H_
