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
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "projections/projection.h"

namespace leadledger::projections {

class SortedWrites {
 public:
  void Put(std::string key, absl::string_view value) {
    PutOwned(std::move(key), std::string(value));
  }
  void PutOwned(std::string key, std::string value) {
    sorted_ = false;
    writes_.push_back(Write{std::move(key), std::move(value), false});
  }
  void Delete(std::string key) {
    sorted_ = false;
    writes_.push_back(Write{std::move(key), {}, true});
  }

  // Applies every write in key order (a key written twice keeps the last
  // write) and forgets them.
  void Apply(RowBatch& rows) {
    Sort();
    for (const uint32_t i : order_) ApplyOne(writes_[i], rows);
    Clear();
  }

  // Applies the writes of every one of `parts` together, in key order, and
  // forgets them; of writes to one key, the last of the last part wins.
  // Each part may have been filled, and sorted with Sort, on a thread of its
  // own.
  static void ApplyMerged(std::vector<SortedWrites>& parts, RowBatch& rows) {
    for (SortedWrites& part : parts) part.Sort();
    std::vector<size_t> next(parts.size(), 0);
    while (true) {
      // Few parts: a linear pick of the smallest key beats a heap. Of equal
      // keys the last part's is picked.
      size_t pick = parts.size();
      bool tie = false;
      for (size_t p = 0; p < parts.size(); ++p) {
        if (next[p] == parts[p].order_.size()) continue;
        if (pick == parts.size()) {
          pick = p;
          continue;
        }
        const int compared =
            parts[p].KeyAt(next[p]).compare(parts[pick].KeyAt(next[pick]));
        if (compared <= 0) {
          tie = compared == 0;
          pick = p;
        }
      }
      if (pick == parts.size()) break;
      if (tie) {
        // Later parts win: skip the earlier parts' writes of this key.
        const std::string& key = parts[pick].KeyAt(next[pick]);
        for (size_t p = 0; p < pick; ++p) {
          if (next[p] < parts[p].order_.size() &&
              parts[p].KeyAt(next[p]) == key) {
            ++next[p];
          }
        }
      }
      ApplyOne(parts[pick].writes_[parts[pick].order_[next[pick]++]], rows);
    }
    for (SortedWrites& part : parts) part.Clear();
  }

  // Sorts the writes, once; later writes to a key replace earlier ones.
  void Sort() {
    if (sorted_) return;
    // Sorting positions moves 4 bytes where sorting the writes would move
    // whole strings; ties keep the order of writing.
    order_.resize(writes_.size());
    for (uint32_t i = 0; i < order_.size(); ++i) order_[i] = i;
    std::sort(order_.begin(), order_.end(), [this](uint32_t a, uint32_t b) {
      const int compared = writes_[a].key.compare(writes_[b].key);
      return compared < 0 || (compared == 0 && a < b);
    });
    // Of several writes of one key, keep the last.
    size_t kept = 0;
    for (size_t i = 0; i < order_.size(); ++i) {
      if (i + 1 < order_.size() &&
          writes_[order_[i]].key == writes_[order_[i + 1]].key) {
        continue;
      }
      order_[kept++] = order_[i];
    }
    order_.resize(kept);
    sorted_ = true;
  }

 private:
  struct Write {
    std::string key;
    std::string value;
    bool erase;
  };

  // Hands the write over to `rows`.
  static void ApplyOne(Write& write, RowBatch& rows) {
    if (write.erase) {
      rows.DeleteOwned(std::move(write.key));
    } else {
      rows.PutOwned(std::move(write.key), std::move(write.value));
    }
  }

  // The key of the i-th write in sorted order.
  const std::string& KeyAt(size_t i) const { return writes_[order_[i]].key; }

  void Clear() {
    writes_.clear();
    order_.clear();
    sorted_ = false;
  }

  std::vector<Write> writes_;
  // After Sort: positions in writes_, in key order, one per key.
  std::vector<uint32_t> order_;
  bool sorted_ = false;
};

}  // namespace leadledger::projections

#endif  // LEADLEDGER_PROJECTIONS_SORTED_WRITES_H_
