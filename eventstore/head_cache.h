// HeadCache: the last version of the streams appended to lately, so that an
// append checks its expected version without reading the heads column
// family.
//
// A server appends to new streams for as long as it runs (every new lead is
// one), so an unbounded map would grow with the history. The cache keeps at
// most `capacity` streams in two generations: a hit or a new head goes to
// the young one, and once the young one holds half the capacity the old one
// is dropped and the young one becomes old. A stream appended to at least
// once per generation stays. A stream it forgot is read from disk again.
//
// Not thread-safe: the store's group commit leaders take turns.
#ifndef LEADLEDGER_EVENTSTORE_HEAD_CACHE_H_
#define LEADLEDGER_EVENTSTORE_HEAD_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace leadledger::eventstore {

class HeadCache {
 public:
  // `capacity` >= 2.
  explicit HeadCache(size_t capacity);

  // The head of `stream` when the cache holds it.
  std::optional<int64_t> Find(absl::string_view stream);
  // Records `version` as the head of `stream`.
  void Set(absl::string_view stream, int64_t version);

  // Streams held now; at most the capacity.
  size_t size() const { return young_.size() + old_.size(); }

 private:
  using Heads = absl::flat_hash_map<std::string, int64_t>;

  // Makes room in the young generation for one more stream.
  void Reserve();

  const size_t generation_capacity_;
  Heads young_;
  Heads old_;
};

}  // namespace leadledger::eventstore

#endif  // LEADLEDGER_EVENTSTORE_HEAD_CACHE_H_
