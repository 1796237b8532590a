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

#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "projections/projection.h"

namespace leadledger::projections {

class SortedWrites {
 public:
  // `value` must stay valid until Apply.
  void Put(std::string key, absl::string_view value) {
    writes_.push_back(Write{std::move(key), value, false});
  }
  // Keeps `value` itself until Apply.
  void PutOwned(std::string key, std::string value) {
    owned_.push_back(std::move(value));
    writes_.push_back(Write{std::move(key), owned_.back(), false});
  }
  void Delete(std::string key) {
    writes_.push_back(Write{std::move(key), {}, true});
  }

  // Applies every write in key order (a key written twice keeps the last
  // write) and forgets them.
  void Apply(RowBatch& rows) {
    // Sorting positions moves 4 bytes where sorting the writes would move
    // whole strings; ties keep the order of writing.
    std::vector<uint32_t> order(writes_.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [this](uint32_t a, uint32_t b) {
      const int compared = writes_[a].key.compare(writes_[b].key);
      return compared < 0 || (compared == 0 && a < b);
    });
    for (const uint32_t i : order) {
      const Write& write = writes_[i];
      if (write.erase) {
        rows.Delete(write.key);
      } else {
        rows.Put(write.key, write.value);
      }
    }
    writes_.clear();
    owned_.clear();
  }

 private:
  struct Write {
    std::string key;
    absl::string_view value;
    bool erase;
  };
  std::vector<Write> writes_;
  // A deque never moves its elements, so views into them stay valid.
  std::deque<std::string> owned_;
};

}  // namespace leadledger::projections

#endif  // LEADLEDGER_PROJECTIONS_SORTED_WRITES_H_
