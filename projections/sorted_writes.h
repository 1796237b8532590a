// SortedWrites: the writes a projection's Flush makes, applied to a RowBatch
// in key order.
//
// RocksDB inserts a batch into its memtable in batch order; a skiplist insert
// next to the previous one reuses the search, while one at a random place
// walks the whole list (a cache miss per level). Sorting the writes of a
// commit makes them several times cheaper, which is most of a rebuild's cost.
//
// Not thread-safe; one per Flush.
#ifndef LEADLEDGER_PROJECTIONS_SORTED_WRITES_H_
#define LEADLEDGER_PROJECTIONS_SORTED_WRITES_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "projections/key_sort.h"
#include "projections/projection.h"

namespace leadledger::projections {

class SortedWrites {
 public:
  // Room for `expected` writes up front: a bulk commit's Flush makes tens
  // of thousands.
  explicit SortedWrites(size_t expected = 0) { writes_.reserve(expected); }

  void Put(std::string key, absl::string_view value) {
    PutOwned(std::move(key), std::string(value));
  }
  void PutOwned(std::string key, std::string value) {
    writes_.push_back(Write{std::move(key), std::move(value), false});
  }
  void Delete(std::string key) {
    writes_.push_back(Write{std::move(key), {}, true});
  }

  // Applies every write in key order (a key written twice keeps the last
  // write) and forgets them.
  void Apply(RowBatch& rows) {
    std::vector<absl::string_view> keys(writes_.size());
    std::vector<uint32_t> order(writes_.size());
    for (uint32_t i = 0; i < order.size(); ++i) {
      keys[i] = writes_[i].key;
      order[i] = i;
    }
    // Sorting positions moves 4 bytes where sorting the writes would move
    // whole strings; ties keep the order of writing.
    SortPositionsByKey(keys, absl::MakeSpan(order));
    rows.Reserve(order.size());
    for (size_t i = 0; i < order.size(); ++i) {
      // Of several writes of one key, the last counts.
      if (i + 1 < order.size() &&
          writes_[order[i]].key == writes_[order[i + 1]].key) {
        continue;
      }
      Write& write = writes_[order[i]];
      if (write.erase) {
        rows.DeleteOwned(std::move(write.key));
      } else {
        rows.PutOwned(std::move(write.key), std::move(write.value));
      }
    }
    writes_.clear();
  }

 private:
  struct Write {
    std::string key;
    std::string value;
    bool erase;
  };

  std::vector<Write> writes_;
};

}  // namespace leadledger::projections

#endif  // LEADLEDGER_PROJECTIONS_SORTED_WRITES_H_
